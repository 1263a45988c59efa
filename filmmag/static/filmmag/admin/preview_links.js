// The review change page's preview links (reviews.admin_preview): a Copy button beside each
// link, shown only where the browser lets a page write to the clipboard.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  if (!navigator.clipboard) return;
  for (const button of document.querySelectorAll(".preview-link-copy[data-copy]")) {
    const field = document.getElementById(button.dataset.copy);
    if (!field) continue;
    button.hidden = false;
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(field.value);
        button.textContent = "Copied";
      } catch {
        field.select(); // the clipboard was refused: select the link for Ctrl+C
      }
    });
  }
  for (const field of document.querySelectorAll(".preview-link-url")) {
    field.addEventListener("focus", () => field.select());
  }
});
