/*
 * Nothing typed is lost: a copy of the review form in this browser's localStorage.
 *
 * While a writer types, the form's fields are kept under "filmmag:review-backup:<review>:v<version>"
 * (<review> is the review's id, or "new" on the add form; <version> the hidden loaded_version
 * the optimistic locking sends back). Opening the form again after a crash, a closed tab or a
 * failed save shows a notice offering to restore what differs from the saved review; nothing
 * is put in the form unless the writer asks.
 *
 * The copy is removed only once a save is known to have succeeded: on submit, the form notes
 * in sessionStorage which copy it sent; the next page in the tab removes that copy if it shows
 * the admin's success message and no form errors. A refused save (errors, or the "changed by
 * someone else" refusal) re-renders the form with errors, so the copy stays for after a
 * reload. A copy identical to what the server shows is dropped silently.
 *
 * Never kept: the CSRF token, passwords, files, hidden fields, and the publishing state
 * (status and publication time), which only the workflow changes.
 *
 * A static file, no inline script or style: it runs under the site's Content Security Policy.
 */
(function () {
    "use strict";

    const PREFIX = "filmmag:review-backup:";
    const SUBMITTED = "filmmag:review-backup:submitted"; // in sessionStorage
    const DELAY_MS = 800; // debounce: write once typing pauses
    const MAX_CHARS = 1000000; // one copy, as JSON (localStorage holds about 5 million)
    const MAX_TOTAL_CHARS = 3000000; // all copies: the oldest go first
    const MAX_AGE_MS = 30 * 24 * 60 * 60 * 1000;
    const SKIPPED_NAMES = /^(csrfmiddlewaretoken|loaded_version|status|published_at(_\d+)?|_.*)$/;
    const SKIPPED_TYPES = ["hidden", "password", "file", "submit", "button", "reset", "image"];

    function storage(kind) {
        try {
            const store = window[kind];
            store.getItem(PREFIX); // throws where storage is disabled
            return store;
        } catch (error) {
            return null;
        }
    }

    const local = storage("localStorage");
    const session = storage("sessionStorage");

    // --- the copies --------------------------------------------------------------------------

    function reviewPrefix(review) {
        return PREFIX + review + ":v";
    }

    function allCopies() {
        const copies = [];
        for (let i = 0; i < local.length; i++) {
            const key = local.key(i);
            if (!key || !key.startsWith(PREFIX) || key === SUBMITTED) continue;
            const text = local.getItem(key) || "";
            let copy = null;
            try {
                copy = JSON.parse(text);
            } catch (error) {
                // Not ours to read: dropped below like an expired copy.
            }
            copies.push({key: key, copy: copy, size: text.length});
        }
        return copies;
    }

    function copiesOf(review) {
        return allCopies()
            .filter((entry) => entry.copy && entry.key.startsWith(reviewPrefix(review)))
            .sort((a, b) => b.copy.savedAt - a.copy.savedAt);
    }

    function removeCopiesOf(review) {
        copiesOf(review).forEach((entry) => local.removeItem(entry.key));
    }

    function prune(keep) {
        const now = Date.now();
        let copies = allCopies();
        copies.forEach((entry) => {
            if (!entry.copy || !(now - entry.copy.savedAt < MAX_AGE_MS)) local.removeItem(entry.key);
        });
        copies = copies
            .filter((entry) => entry.copy && now - entry.copy.savedAt < MAX_AGE_MS)
            .sort((a, b) => a.copy.savedAt - b.copy.savedAt);
        let total = copies.reduce((sum, entry) => sum + entry.size, 0);
        for (const entry of copies) {
            if (total <= MAX_TOTAL_CHARS) break;
            if (entry.key === keep) continue;
            local.removeItem(entry.key);
            total -= entry.size;
        }
    }

    function put(key, text) {
        for (let attempt = 0; attempt < 2; attempt++) {
            try {
                local.setItem(key, text);
                return true;
            } catch (error) {
                // Over the browser's quota: make room from the oldest other copies, once.
                const others = allCopies()
                    .filter((entry) => entry.key !== key)
                    .sort((a, b) => (a.copy ? a.copy.savedAt : 0) - (b.copy ? b.copy.savedAt : 0));
                others.forEach((entry) => local.removeItem(entry.key));
            }
        }
        return false;
    }

    // --- the form's fields -------------------------------------------------------------------

    function kept(element) {
        return Boolean(element.name)
            && !element.disabled
            && !SKIPPED_NAMES.test(element.name)
            && !SKIPPED_TYPES.includes(element.type)
            && element.name.indexOf("__prefix__") === -1
            && !element.closest(".empty-form");
    }

    function fieldsOf(form) {
        const fields = {};
        for (const element of form.elements) {
            if (!kept(element)) continue;
            if (element.type === "checkbox") {
                fields[element.name] = {checked: element.checked};
            } else if (element.type === "radio") {
                if (element.checked || !(element.name in fields)) {
                    fields[element.name] = {value: element.checked ? element.value : ""};
                }
            } else if (element.tagName === "SELECT") {
                const chosen = Array.from(element.options).filter((option) => option.selected);
                fields[element.name] = {
                    values: chosen.map((option) => option.value),
                    texts: chosen.map((option) => option.text),
                };
            } else {
                fields[element.name] = {value: element.value};
            }
        }
        return fields;
    }

    function sameField(a, b) {
        const comparable = (field) => JSON.stringify([field.value, field.checked, field.values]);
        return comparable(a) === comparable(b);
    }

    function differing(copy, current) {
        return Object.keys(copy.fields).filter(
            (name) => name in current && !sameField(copy.fields[name], current[name])
        );
    }

    function labelOf(form, name) {
        const element = form.elements.namedItem(name);
        const first = element && element.length !== undefined && !element.tagName ? element[0] : element;
        const label = first && first.id ? document.querySelector('label[for="' + first.id + '"]') : null;
        return label ? label.textContent.replace(/:\s*$/, "").trim() : name;
    }

    function restoreField(form, name, stored) {
        const found = form.elements.namedItem(name);
        if (!found) return;
        const elements = found.tagName ? [found] : Array.from(found);
        for (const element of elements) {
            if (element.type === "checkbox") {
                element.checked = Boolean(stored.checked);
            } else if (element.type === "radio") {
                element.checked = element.value === stored.value;
            } else if (element.tagName === "SELECT") {
                const values = stored.values || [];
                values.forEach((value, i) => {
                    // An autocomplete select holds only its current choice: add the kept one.
                    const exists = Array.from(element.options).some((option) => option.value === value);
                    if (!exists) element.add(new Option((stored.texts || [])[i] || value, value));
                });
                for (const option of element.options) option.selected = values.includes(option.value);
                // Lets select2 (autocomplete fields) show the restored choice.
                element.dispatchEvent(new Event("change", {bubbles: true}));
            } else {
                element.value = stored.value;
            }
        }
    }

    // --- what the page shows -----------------------------------------------------------------

    function paragraph(text, className) {
        const p = document.createElement("p");
        p.textContent = text;
        if (className) p.className = className;
        return p;
    }

    function button(text, onClick) {
        const b = document.createElement("button");
        b.type = "button";
        b.className = "button";
        b.textContent = text;
        b.addEventListener("click", onClick);
        return b;
    }

    function status(form, text) {
        const note = document.createElement("div");
        note.className = "review-backup review-backup--status";
        note.setAttribute("role", "status");
        note.tabIndex = -1;
        note.appendChild(paragraph(text));
        const firstFieldset = form.querySelector("fieldset");
        firstFieldset.parentNode.insertBefore(note, firstFieldset);
        return note;
    }

    function offer(form, entry, names, currentVersion, decide) {
        const copy = entry.copy;
        const labels = names.map((name) => labelOf(form, name));
        const when = new Date(copy.savedAt).toLocaleString(undefined, {
            dateStyle: "medium",
            timeStyle: "short",
        });
        const notice = document.createElement("div");
        notice.className = "review-backup";
        notice.setAttribute("role", "alert");
        notice.id = "review-backup-notice";
        const title = paragraph("This browser kept text you typed that was not saved.", "review-backup__title");
        notice.appendChild(title);
        notice.appendChild(paragraph("Typed " + when + ", in: " + labels.join(", ") + "."));
        if (String(copy.version) !== String(currentVersion)) {
            notice.appendChild(paragraph(
                "The review has been saved since then (by someone else, or in another tab). "
                + "Restoring puts your text in those fields in place of the saved text: "
                + "compare before you save."
            ));
        }
        const actions = document.createElement("div");
        actions.className = "review-backup__actions";
        actions.appendChild(button("Restore my unsaved text", () => decide(true, notice, labels)));
        actions.appendChild(button("Discard", () => decide(false, notice, labels)));
        notice.appendChild(actions);
        const firstFieldset = form.querySelector("fieldset");
        firstFieldset.parentNode.insertBefore(notice, firstFieldset);
    }

    // --- the page ----------------------------------------------------------------------------

    function reviewOf(path) {
        const change = /\/([^/]+)\/change\/?$/.exec(path);
        if (change) return decodeURIComponent(change[1]);
        return /\/add\/?$/.test(path) ? "new" : null;
    }

    function forgetSavedCopy() {
        // The page after a save: remove the copy that was sent if the save is known to have worked.
        if (!session) return;
        const sent = session.getItem(SUBMITTED);
        session.removeItem(SUBMITTED);
        if (!sent) return;
        const refused = document.querySelector(".errornote, .errorlist");
        const saved = document.querySelector(".messagelist .success");
        if (saved && !refused) {
            // Only the copy that was sent: an older one the writer never decided on stays.
            let key = null;
            try {
                key = JSON.parse(sent).key;
            } catch (error) {
                // A damaged note: the copy stays, and is offered (or dropped if identical) later.
            }
            if (typeof key === "string" && key.startsWith(PREFIX)) local.removeItem(key);
        }
    }

    function keepForm(form) {
        const review = reviewOf(window.location.pathname);
        if (review === null) return;
        const versionField = form.elements.namedItem("loaded_version");
        const version = versionField && versionField.value ? versionField.value : "0";
        const key = reviewPrefix(review) + version;
        const refused = Boolean(document.querySelector(".errornote"));
        // What the server sent, unless it sent the writer's own refused text back.
        const baseline = refused ? null : JSON.stringify(fieldsOf(form));
        let dirty = false;
        let undecided = null; // the copy offered under this very key, until restored or discarded
        let timer = null;
        let tooLongShown = false;

        function write() {
            window.clearTimeout(timer);
            if (!dirty || undecided) return;
            const fields = fieldsOf(form);
            if (JSON.stringify(fields) === baseline) {
                // Nothing unsaved (jQuery-triggered "change" events fire on load, too).
                dirty = false;
                local.removeItem(key);
                return;
            }
            const text = JSON.stringify({
                review: review,
                version: version,
                savedAt: Date.now(),
                fields: fields,
            });
            if (text.length > MAX_CHARS) {
                if (!tooLongShown) {
                    tooLongShown = true;
                    status(form, "This review is too long to keep a copy in this browser: save it often.");
                }
                return;
            }
            if (put(key, text)) dirty = false;
        }

        function edited() {
            dirty = true;
            window.clearTimeout(timer);
            timer = window.setTimeout(write, DELAY_MS);
        }

        form.addEventListener("input", edited);
        form.addEventListener("change", edited);
        if (window.django && window.django.jQuery) {
            // select2 announces a choice with a jQuery event, which native listeners never see.
            window.django.jQuery(form).on("change", "select", edited);
        }
        window.addEventListener("pagehide", write);
        document.addEventListener("visibilitychange", () => {
            if (document.visibilityState === "hidden") write();
        });
        form.addEventListener("submit", () => {
            write();
            if (session) session.setItem(SUBMITTED, JSON.stringify({review: review, key: key}));
        });

        const current = fieldsOf(form);
        if (refused) {
            // The form came back with the writer's own text and an error: keep the copy for later.
            if (local.getItem(key)) {
                status(form, "Your text is also kept in this browser: if you reload the page or "
                    + "come back later, you will be offered it back.");
            }
            return;
        }
        let offered = null;
        for (const entry of copiesOf(review)) {
            const names = differing(entry.copy, current);
            if (!names.length) {
                local.removeItem(entry.key); // nothing the server does not already show
            } else if (!offered) {
                offered = {entry: entry, names: names};
            }
        }
        if (!offered) return;
        if (offered.entry.key === key) undecided = offered.entry;

        offer(form, offered.entry, offered.names, version, (restore, notice, labels) => {
            if (restore) {
                offered.names.forEach((name) => restoreField(form, name, offered.entry.copy.fields[name]));
            }
            removeCopiesOf(review);
            undecided = null;
            dirty = true;
            write(); // what the form holds now is its copy, if it differs from the saved review
            const done = status(form, restore
                ? "Your unsaved text is back in: " + labels.join(", ") + ". It is not saved yet: check it, then save."
                : "The kept text was discarded.");
            notice.remove();
            done.focus();
        });
    }

    function start() {
        if (!local) return;
        forgetSavedCopy();
        prune(null);
        const form = document.getElementById("review_form");
        if (form) keepForm(form);
    }

    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", start);
    } else {
        start();
    }
}());
