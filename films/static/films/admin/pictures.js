// Picture inputs in the admin (films/admin_pictures.py). Clicking the preview sets the focal
// point (the numeric fields, which also work without this script) and moves the crop outline;
// choosing a file fills an empty alt text with the suggested one. No inline code: the CSP
// allows only scripts from the site, and styles are set through the DOM, not attributes.
"use strict";
(function () {
  // The largest box of the ratio inside the image, centred on the focal point as far as the
  // edges allow: films.pictures.crop_box, in % of the image.
  function cropBox(width, height, ratio, fx, fy) {
    const target = ratio[0] / ratio[1];
    let cropW = width;
    let cropH = height;
    if (width / height > target) {
      cropW = Math.round(height * target);
    } else {
      cropH = Math.round(width / target);
    }
    const left = Math.min(Math.max(Math.round((width * fx) / 100 - cropW / 2), 0), width - cropW);
    const top = Math.min(Math.max(Math.round((height * fy) / 100 - cropH / 2), 0), height - cropH);
    return [left / width, top / height, cropW / width, cropH / height].map((v) => v * 100);
  }

  function inputs(root) {
    const file = root.querySelector("input[type=file]");
    const form = root.closest("form");
    if (!file || !form) {
      return null;
    }
    // From the file input's name, which the admin renumbers in inline rows added later.
    const prefix = file.name.slice(0, file.name.length - root.dataset.field.length);
    const named = (name) => (name ? form.elements.namedItem(prefix + name) : null);
    return {
      file: file,
      alt: named(root.dataset.alt),
      x: named(root.dataset.focal && root.dataset.focal + "_x"),
      y: named(root.dataset.focal && root.dataset.focal + "_y"),
    };
  }

  function focalValue(input) {
    const value = parseInt(input.value, 10);
    return Number.isNaN(value) ? 50 : Math.min(Math.max(value, 0), 100);
  }

  function draw(root) {
    const fields = inputs(root);
    const image = root.querySelector(".picture-preview__image");
    const crop = root.querySelector(".picture-preview__crop");
    if (!fields || !fields.x || !fields.y || !image || !crop) {
      return;
    }
    const fx = focalValue(fields.x);
    const fy = focalValue(fields.y);
    const ratio = root.dataset.ratio.split("/").map(Number);
    const box = cropBox(image.width, image.height, ratio, fx, fy);
    ["x", "y", "width", "height"].forEach((name, i) => crop.setAttribute(name, box[i].toFixed(2)));
    const [vertical, horizontal] = root.querySelectorAll(".picture-preview__marker");
    vertical.setAttribute("x1", fx);
    vertical.setAttribute("x2", fx);
    horizontal.setAttribute("y1", fy);
    horizontal.setAttribute("y2", fy);
  }

  // The outline as the fields say (a form that came back, a page the browser restored).
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".picture-input[data-focal]").forEach(draw);
  });

  document.addEventListener("click", function (event) {
    const image = event.target.closest(".picture-input[data-focal] .picture-preview__image");
    if (!image) {
      return;
    }
    const root = image.closest(".picture-input");
    const fields = inputs(root);
    if (!fields || !fields.x || !fields.y) {
      return;
    }
    const rect = image.getBoundingClientRect();
    const percent = (offset, size) => Math.min(Math.max(Math.round((offset * 100) / size), 0), 100);
    fields.x.value = percent(event.clientX - rect.left, rect.width);
    fields.y.value = percent(event.clientY - rect.top, rect.height);
    [fields.x, fields.y].forEach((input) => input.dispatchEvent(new Event("change", { bubbles: true })));
    draw(root);
  });

  document.addEventListener("input", function (event) {
    document.querySelectorAll(".picture-input[data-focal]").forEach(function (root) {
      const fields = inputs(root);
      if (fields && (event.target === fields.x || event.target === fields.y)) {
        draw(root);
      }
    });
  });

  document.addEventListener("change", function (event) {
    const file = event.target;
    if (!file.matches || !file.matches(".picture-input input[type=file]") || !file.files.length) {
      return;
    }
    const root = file.closest(".picture-input");
    const fields = inputs(root);
    if (fields && fields.alt && !fields.alt.value.trim() && root.dataset.suggestion) {
      fields.alt.value = root.dataset.suggestion;
    }
  });
})();
