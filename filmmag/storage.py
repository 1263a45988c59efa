"""The S3 storage of pictures (DJANGO_S3_BUCKET; README: Pictures and storage)."""

from functools import cached_property
from urllib.parse import quote

from storages.backends.s3 import S3Storage
from storages.utils import clean_name


class PublicS3Storage(S3Storage):
    """S3Storage for a publicly readable bucket, with picture URLs built as strings.

    Without a CDN domain, django-storages asks botocore for each URL (an unsigned "presigned"
    URL), which takes about 0.25 ms: 60 ms for a film list showing 250 renditions. The URL of a
    public object is the same prefix every time, followed by its key, so it is worked out once.
    """

    def url(self, name, parameters=None, expire=None, http_method=None):
        if parameters or http_method or self.querystring_auth or self.custom_domain:
            return super().url(name, parameters, expire, http_method)
        prefix = self._url_prefix
        if prefix is None:
            return super().url(name)
        # As botocore quotes a key in a URL's path.
        return prefix + quote(self._normalize_name(clean_name(name)), safe="/~")

    @cached_property
    def _url_prefix(self) -> str | None:
        marker = "filmmag-url-prefix"
        url = super().url(marker)
        key = self._normalize_name(marker)
        if "?" in url or not url.endswith(key):
            return None  # not a plain URL: let botocore make each one
        return url[: -len(key)]
