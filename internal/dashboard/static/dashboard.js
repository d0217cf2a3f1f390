// glint dashboard: the few things htmx does not do. The modal dialog,
// the table's selection, the metadata editor's remove buttons, and
// uploads: the browser streams the chosen file as the raw body of one
// PUT, so it can show progress, to the dashboard's upload route, which
// hands the connection to the Image API. No inline script anywhere: the
// page's Content-Security-Policy allows scripts from this origin only.
(function () {
  "use strict";

  // The dialog's frame: one <dialog id="modal"> holding <div
  // id="modal-content">, which every dialog's answer fills. Should a
  // dialog's answer or script have broken the frame (replaced or removed
  // it), it is built again before the next request, so one broken dialog
  // never takes the others down with it.
  function ensureModal() {
    let d = document.getElementById("modal");
    if (!d || d.tagName !== "DIALOG") {
      if (d) d.remove();
      d = document.createElement("dialog");
      d.id = "modal";
      d.setAttribute("aria-labelledby", "modal-title");
      document.body.append(d);
    }
    let c = document.getElementById("modal-content");
    if (!c || c.parentElement !== d) {
      if (c) c.remove();
      d.replaceChildren();
      c = document.createElement("div");
      c.id = "modal-content";
      d.append(c);
    }
    return d;
  }
  const modal = () => ensureModal();
  const modalContent = () => { ensureModal(); return document.getElementById("modal-content"); };

  // guard runs a listener so that its failure is logged, not thrown
  // into the page's other handlers, and leaves the dialog frame whole.
  function guard(fn) {
    return function (e) {
      try { fn(e); } catch (err) {
        console.error("glint dashboard:", err);
        try { ensureModal(); } catch (err2) { /* nothing more to do */ }
      }
    };
  }

  // Before htmx looks for a dialog's target (it does so when the click
  // reaches the button), make sure the frame is there.
  document.addEventListener("click", guard(function (e) {
    if (e.target.closest && e.target.closest('[hx-target="#modal-content"]')) ensureModal();
  }), true);

  let opener = null; // the element focused before the dialog opened
  let pendingFile = null; // the create form's file, until the server answers

  function csrf() {
    const m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.content : "";
  }

  // ---- dialog ---------------------------------------------------------

  function focusFirst(root) {
    const el = root.querySelector("[autofocus]") ||
      root.querySelector("input:not([type=hidden]):not([disabled]), select, textarea, button:not([disabled])");
    if (el) el.focus();
  }

  function openModal() {
    const d = modal();
    if (!d) return;
    if (!d.open) {
      if (!opener) opener = document.activeElement;
      d.showModal();
    }
    focusFirst(d);
  }

  function closeModal() {
    const d = modal();
    if (!d || !d.open) return;
    d.close();
  }

  document.addEventListener("close", guard(function (e) {
    if (e.target !== modal()) return;
    // Later, not now: an event the server sent with the close may still
    // be on its way through the dialog's elements.
    setTimeout(function () {
      if (!modal().open) modalContent().replaceChildren();
    }, 0);
    if (opener && document.contains(opener)) opener.focus();
    else if (openerWas) {
      const el = findAgain(openerWas);
      if (el) el.focus();
    }
    opener = null;
  }), true);

  // Focus survives the refreshes: after saving, the lists are swapped for
  // new copies (the control that opened the dialog with them), or a row
  // is gone. The last control focused outside a dialog is remembered by
  // what it is (its id, row and label); when a swap takes it away, focus
  // goes to its new copy, or to a neighbour of a deleted row, or to the
  // page's main region, never to nowhere.
  let lastFocus = null;
  let openerWas = null;

  function describe(el) {
    if (!el || el === document.body || !el.closest || !el.isConnected) return null;
    const row = el.closest("tr[id]");
    const near = row && (row.nextElementSibling || row.previousElementSibling);
    return {
      id: el.id || "", row: row ? row.id : "", near: near && near.id ? near.id : "",
      label: el.getAttribute("aria-label") || "", text: (el.textContent || "").trim(), tag: el.tagName,
    };
  }

  function focusable(el) {
    const closed = el.closest("details:not([open])");
    if (closed && !el.matches("summary")) return closed.querySelector("summary");
    return el.offsetParent !== null || el.matches("summary, main") ? el : null;
  }

  function findAgain(d) {
    if (d.id) {
      const el = document.getElementById(d.id);
      if (el) return focusable(el);
    }
    const scope = d.row ? document.getElementById(d.row) : document.getElementById("main");
    if (scope) {
      for (const el of scope.querySelectorAll("button, a, summary, input, select, textarea")) {
        const same = d.label ? el.getAttribute("aria-label") === d.label : el.tagName === d.tag && el.textContent.trim() === d.text;
        if (same) {
          const f = focusable(el);
          if (f) return f;
        }
      }
      if (d.row) return scope.querySelector("td.name a, a") || null;
    }
    const near = d.near && document.getElementById(d.near);
    if (near) return near.querySelector("td.name a, a, button");
    return document.getElementById("main");
  }

  function focusLost() {
    const a = document.activeElement;
    return !a || a === document.body || !a.isConnected;
  }

  document.addEventListener("focusin", function (e) {
    if (e.target.closest && !e.target.closest("dialog, #toasts")) lastFocus = describe(e.target) || lastFocus;
  });

  document.addEventListener("htmx:afterSettle", guard(function () {
    if (!lastFocus || modal().open || !focusLost()) return;
    const el = findAgain(lastFocus);
    if (el) el.focus();
  }));

  document.addEventListener("htmx:beforeRequest", guard(function (e) {
    const t = e.detail.target;
    if (t && t.id === "modal-content" && !modal().open) {
      // The control that asked for the dialog (a click need not focus
      // it: Safari's does not), else whatever has focus.
      const elt = e.detail.elt;
      opener = elt && elt.matches && elt.matches("button, a, summary, input, select") ? elt : document.activeElement;
      openerWas = describe(opener);
    }
  }));

  // A dialog's answer always fills the frame, whatever swap style the
  // button would inherit from around it (a polling table row swaps its
  // own outerHTML), unless the server asks for something else.
  document.addEventListener("htmx:beforeSwap", guard(function (e) {
    const t = e.detail.target;
    const xhr = e.detail.xhr;
    if (t && t.id === "modal-content" && !(xhr && xhr.getResponseHeader("HX-Reswap"))) e.detail.swapOverride = "innerHTML";
  }));

  document.addEventListener("htmx:afterSwap", guard(function (e) {
    // An answer that swaps nothing (a notice, or "done, close") must not
    // reopen the dialog it just closed.
    const xhr = e.detail.xhr;
    if (xhr && xhr.getResponseHeader("HX-Reswap") === "none") return;
    if (e.detail.target && e.detail.target.id === "modal-content" && modalContent().childElementCount > 0) {
      openModal();
      restoreFile();
    }
  }));

  document.body.addEventListener("glint-close-modal", closeModal);

  document.addEventListener("click", function (e) {
    const close = e.target.closest("[data-close-modal]");
    if (close) {
      e.preventDefault();
      if (close.closest("dialog")) closeModal();
      else history.back(); // the dialog was opened as a page of its own
      return;
    }
    const dismiss = e.target.closest("[data-dismiss]");
    if (dismiss) {
      dismiss.closest(".toast").remove();
      return;
    }
    const remove = e.target.closest("[data-remove-row]");
    if (remove) {
      const row = remove.closest("tr");
      const next = row.nextElementSibling || row.previousElementSibling;
      row.remove();
      const focus = next ? next.querySelector("input, select") : document.querySelector("#prop-rows ~ * button, .prop-actions button");
      if (focus) focus.focus();
    }
  });

  // Row menus: one open at a time; a click elsewhere or Escape closes
  // them, and choosing an item does too.
  function closeMenus(except) {
    document.querySelectorAll("details.row-menu[open], details.switcher[open]").forEach(function (d) {
      if (d !== except) d.open = false;
    });
  }
  document.addEventListener("click", function (e) {
    const menu = e.target.closest("details.row-menu, details.switcher");
    closeMenus(menu);
    if (menu && e.target.closest(".row-menu-items button, .row-menu-items a")) menu.open = false;
  });
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") return;
    const open = document.activeElement && document.activeElement.closest("details[open]");
    if (open && !open.closest("dialog")) {
      open.open = false;
      open.querySelector("summary").focus();
    }
  });

  // ---- refreshes keep what the user is doing ---------------------------

  // A row whose image is changing asks for itself every 2 s, and the list
  // asks for itself after a save or an upload. Either answer replaces the
  // rows, which would close the menu the user has open under the pointer
  // and clear the boxes ticked for deletion. So a polling row does not
  // swap while its menu is open (it asks again as soon as the menu
  // closes), and every refresh carries the ticked boxes and the open menu
  // over to the new rows. Focus follows by lastFocus (above).
  function isRefresh(d) {
    const t = d.target;
    return d.elt === t && t && t.matches && t.matches("#image-list, #image-list tr[id]");
  }

  let carried = null;
  document.addEventListener("htmx:beforeSwap", guard(function (e) {
    const d = e.detail;
    carried = null;
    if (!d.shouldSwap || !isRefresh(d)) return;
    const t = d.target;
    if (t.matches("tr") && t.querySelector("details.row-menu[open]")) {
      d.shouldSwap = false;
      t.dataset.refreshHeld = "1";
      return;
    }
    const rowOf = function (el) { const r = el.closest("tr[id]"); return r ? r.id : ""; };
    carried = {
      checked: [...t.querySelectorAll('input[name="id"]:checked')].map(function (b) { return b.value; }),
      open: [...t.querySelectorAll("details.row-menu[open]")].map(rowOf).filter(Boolean),
    };
    if (!carried.checked.length && !carried.open.length) carried = null;
  }));

  document.addEventListener("htmx:afterSwap", guard(function () {
    const c = carried;
    carried = null;
    if (!c) return;
    const list = document.getElementById("image-list");
    if (!list) return;
    for (const b of list.querySelectorAll('input[name="id"]')) {
      if (c.checked.includes(b.value)) b.checked = true;
    }
    for (const id of c.open) {
      const row = document.getElementById(id);
      const menu = row && row.querySelector("details.row-menu");
      if (menu) menu.open = true;
    }
    updateSelection();
  }));

  // toggle does not bubble: listen while it goes down.
  document.addEventListener("toggle", guard(function (e) {
    const menu = e.target;
    if (!menu.matches || !menu.matches("details.row-menu") || menu.open) return;
    const row = menu.closest("tr[id]");
    if (row && row.dataset.refreshHeld && window.htmx) {
      delete row.dataset.refreshHeld;
      htmx.trigger(row, "glint-row-refresh");
    }
  }), true);

  // A click on the backdrop (outside the dialog's box) closes it too.
  document.addEventListener("mousedown", function (e) {
    const d = modal();
    if (d && e.target === d) {
      const r = d.getBoundingClientRect();
      if (e.clientX < r.left || e.clientX > r.right || e.clientY < r.top || e.clientY > r.bottom) closeModal();
    }
  });

  // ---- notices ---------------------------------------------------------

  function notice(kind, text) {
    const box = document.getElementById("toasts");
    if (!box) return;
    const t = document.createElement("div");
    t.className = "toast toast-" + kind;
    t.setAttribute("role", kind === "error" ? "alert" : "status");
    const span = document.createElement("span");
    span.textContent = text;
    const b = document.createElement("button");
    b.type = "button";
    b.className = "toast-close";
    b.setAttribute("data-dismiss", "");
    b.setAttribute("aria-label", "Dismiss");
    b.textContent = "×";
    t.append(span, b);
    box.append(t);
    autoHide(t);
  }

  function autoHide(t) {
    if (!t.classList.contains("toast-error")) setTimeout(function () { t.remove(); }, 7000);
  }

  // At most maxToasts notices at a time: the dock they live in takes its
  // height from the page, so an old one goes when a fourth comes.
  const maxToasts = 3;
  new MutationObserver(function (list) {
    for (const m of list) for (const n of m.addedNodes) if (n.nodeType === 1 && n.classList.contains("toast")) autoHide(n);
    const box = document.getElementById("toasts");
    while (box && box.querySelectorAll(".toast").length > maxToasts) box.querySelector(".toast").remove();
  }).observe(document.getElementById("toasts"), { childList: true, subtree: true });

  document.addEventListener("htmx:sendError", function () {
    notice("error", "The server could not be reached. Check your connection and try again.");
  });

  // ---- selection for deletion -----------------------------------------

  function updateSelection() {
    const list = document.getElementById("image-list");
    if (!list) return;
    const boxes = list.querySelectorAll('input[name="id"]');
    const checked = list.querySelectorAll('input[name="id"]:checked');
    const button = list.querySelector("[data-delete-selected]");
    const count = list.querySelector("[data-selection-count]");
    if (button) {
      button.disabled = checked.length === 0;
      button.textContent = checked.length > 0 ? "Delete selected (" + checked.length + ")" : "Delete selected";
    }
    if (count) count.textContent = checked.length > 0 ? checked.length + " selected" : "";
    const all = list.querySelector("[data-select-all]");
    if (all) {
      all.checked = boxes.length > 0 && checked.length === boxes.length;
      all.indeterminate = checked.length > 0 && checked.length < boxes.length;
      all.disabled = boxes.length === 0;
    }
  }

  document.addEventListener("change", function (e) {
    if (e.target.matches("[data-select-all]")) {
      const list = document.getElementById("image-list");
      list.querySelectorAll('input[name="id"]').forEach(function (b) { b.checked = e.target.checked; });
    }
    if (e.target.matches('[data-select-all], #image-list input[name="id"]')) updateSelection();
    if (e.target.matches("[data-upload-file]")) guessFromFile(e.target);
  });

  document.addEventListener("htmx:load", updateSelection);

  // ---- create: pick up the file, upload it when the image exists --------

  const formats = { qcow2: "qcow2", img: "raw", raw: "raw", iso: "iso", vmdk: "vmdk", vhd: "vhd", vhdx: "vhdx", vdi: "vdi", ploop: "ploop" };

  function guessFromFile(input) {
    const form = input.closest("form");
    const file = input.files && input.files[0];
    if (!form || !file) return;
    const err = form.querySelector("[data-file-error]");
    if (err) err.hidden = true;
    const name = form.querySelector('input[name="name"]');
    const dot = file.name.lastIndexOf(".");
    if (name && !name.value) name.value = dot > 0 ? file.name.slice(0, dot) : file.name;
    const ext = dot > 0 ? file.name.slice(dot + 1).toLowerCase() : "";
    const sel = form.querySelector("[data-disk-format]");
    if (sel && formats[ext]) sel.value = formats[ext];
  }

  function sourceOf(form) {
    const checked = form.querySelector('input[name="source"]:checked');
    return checked ? checked.value : "file";
  }

  // Before htmx sends the create form: keep the file (it is not part of
  // the form data, the input has no name) and insist on one.
  document.addEventListener("htmx:configRequest", function (e) {
    const form = e.detail.elt;
    if (!form.matches || !form.matches("[data-create-form]")) return;
    if (sourceOf(form) !== "file") { pendingFile = null; return; }
    const input = form.querySelector("[data-upload-file]");
    const file = input && input.files && input.files[0];
    if (!file) {
      e.preventDefault();
      const err = form.querySelector("[data-file-error]");
      if (err) err.hidden = false;
      if (input) input.focus();
      return;
    }
    pendingFile = file;
  });

  // The server answered the create form with the form again (an error):
  // put the chosen file back into the new file input.
  function restoreFile() {
    if (!pendingFile) return;
    const input = modalContent().querySelector("[data-create-form] [data-upload-file]");
    if (!input || (input.files && input.files.length)) return;
    try {
      const dt = new DataTransfer();
      dt.items.add(pendingFile);
      input.files = dt.files;
    } catch (err) { /* the user picks it again */ }
  }

  document.body.addEventListener("glint-upload", function (e) {
    const d = e.detail || {};
    const file = pendingFile;
    pendingFile = null;
    if (file && d.url) upload(d, file);
  });

  // The upload dialog of an image still queued: no server round trip.
  document.addEventListener("submit", function (e) {
    const form = e.target.closest("[data-upload-form]");
    if (!form) return;
    e.preventDefault();
    const input = form.querySelector("[data-upload-file]");
    const file = input.files && input.files[0];
    if (!file) { input.focus(); return; }
    const store = form.querySelector("[data-upload-store]");
    upload({ id: form.dataset.uploadId, url: form.dataset.uploadUrl, name: form.dataset.uploadName, store: store ? store.value : "" }, file);
    closeModal();
  });

  // ---- uploads ----------------------------------------------------------

  let active = 0;

  function units(n) {
    const u = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return (i === 0 ? n : n.toFixed(1)) + " " + u[i];
  }

  function trayItem(name, size) {
    const tray = document.getElementById("uploads");
    tray.hidden = false;
    const li = document.createElement("li");
    li.className = "upload";
    const title = document.createElement("span");
    title.className = "upload-name";
    title.textContent = name;
    const bar = document.createElement("progress");
    bar.max = size || 1;
    bar.value = 0;
    bar.setAttribute("aria-label", "Upload of " + name);
    const text = document.createElement("span");
    text.className = "upload-text";
    text.textContent = "Starting…";
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "small";
    cancel.textContent = "Cancel";
    cancel.setAttribute("aria-label", "Cancel upload of " + name);
    li.append(title, bar, text, cancel);
    tray.querySelector("ul").append(li);
    return { li: li, bar: bar, text: text, cancel: cancel };
  }

  function apiMessage(xhr) {
    try {
      const body = JSON.parse(xhr.responseText);
      if (body.message) return body.message.split("<br />").map(function (s) { return s.trim(); }).filter(Boolean).join(" ");
    } catch (err) { /* not JSON */ }
    return xhr.responseText ? xhr.responseText.slice(0, 200) : "HTTP " + xhr.status;
  }

  function finish(item, ok, text) {
    item.text.textContent = text;
    item.li.classList.add(ok ? "upload-done" : "upload-failed");
    item.cancel.textContent = "Dismiss";
    item.cancel.setAttribute("aria-label", "Dismiss");
    item.cancel.onclick = function () {
      item.li.remove();
      const tray = document.getElementById("uploads");
      if (!tray.querySelector("li")) tray.hidden = true;
    };
    if (ok) setTimeout(item.cancel.onclick, 8000);
    active--;
    if (window.htmx) htmx.trigger(document.body, "glint-refresh");
  }

  // removeImage deletes the image an upload was for, through the
  // dashboard's own delete route; it resolves to whether that worked.
  function removeImage(d) {
    const body = new URLSearchParams();
    body.append("id", d.id);
    body.append("name_" + d.id, d.name || d.id);
    body.append("csrf", csrf());
    return fetch("/dashboard/images/delete", {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf(), "HX-Request": "true" },
    }).then(function (r) {
      if (window.htmx) htmx.trigger(document.body, "glint-refresh");
      return r.ok;
    }, function () { return false; });
  }

  // A failed or cancelled upload leaves a queued image without data:
  // offer, right there, to send the file again or to delete the image.
  function offerLeftover(item, d, file) {
    if (!d.id || item.li.querySelector(".upload-actions")) return;
    const name = d.name || file.name;
    const box = document.createElement("div");
    box.className = "upload-actions";
    const retry = document.createElement("button");
    retry.type = "button";
    retry.className = "small primary";
    retry.textContent = "Retry";
    retry.setAttribute("aria-label", "Retry the upload of " + name);
    retry.onclick = function () {
      item.li.remove();
      upload(d, file);
    };
    const del = document.createElement("button");
    del.type = "button";
    del.className = "small danger-text";
    del.textContent = "Delete image";
    del.setAttribute("aria-label", "Delete the empty image " + name);
    del.onclick = function () {
      retry.disabled = del.disabled = true;
      removeImage(d).then(function (ok) {
        if (ok) {
          item.cancel.onclick();
          notice("ok", "Deleted the empty image " + name + ".");
        } else {
          retry.disabled = del.disabled = false;
          notice("error", "The image " + name + " could not be deleted; try again from its row.");
        }
      });
    };
    box.append(retry, del);
    item.li.append(box);
  }

  function upload(d, file) {
    const item = trayItem(d.name || file.name, file.size);
    active++;
    send(d, file, item, 0, 0);
  }

  // send PUTs the file from byte offset: the whole file as one plain PUT
  // first, then, after a lost connection, the rest as a resumed upload
  // (Content-Range: bytes offset-last/size), which the server continues
  // from the bytes it kept.
  function send(d, file, item, offset, tries) {
    const xhr = new XMLHttpRequest();
    const started = Date.now();
    xhr.open("PUT", d.url);
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.setRequestHeader("X-CSRF-Token", csrf());
    xhr.setRequestHeader("Accept", "application/json");
    if (d.store) xhr.setRequestHeader("X-Image-Meta-Store", d.store);
    const resumed = tries > 0 && file.size > 0;
    if (resumed) xhr.setRequestHeader("Content-Range", "bytes " + offset + "-" + (file.size - 1) + "/" + file.size);
    xhr.upload.addEventListener("progress", function (e) {
      const total = file.size;
      const done = offset + e.loaded;
      item.bar.max = total || 1;
      item.bar.value = done;
      const secs = Math.max((Date.now() - started) / 1000, 0.001);
      const pct = total ? Math.floor(done * 100 / total) : 0;
      item.text.textContent = pct + "% · " + units(done) + " of " + units(total) + " · " + units(e.loaded / secs) + "/s";
    });
    xhr.upload.addEventListener("load", function () {
      item.text.textContent = "Sent; the server is checking the data…";
    });
    xhr.addEventListener("load", function () {
      const name = d.name || file.name;
      if (xhr.status >= 200 && xhr.status < 300) {
        item.bar.value = item.bar.max;
        finish(item, true, "Uploaded " + units(file.size));
        notice("ok", "The upload of " + name + " is complete.");
      } else if (resumed && (xhr.status === 308 || xhr.status === 409 || xhr.status === 410 || xhr.status >= 500)) {
        resumeLater(d, file, item, tries);
      } else {
        // The bytes were sent but not kept: the bar must not say done.
        item.bar.value = 0;
        const why = apiMessage(xhr);
        finish(item, false, "Failed: " + why);
        notice("error", "The upload of " + name + " failed: " + why);
        offerLeftover(item, d, file);
      }
    });
    xhr.addEventListener("error", function () {
      if (file.size > 0) {
        resumeLater(d, file, item, tries);
        return;
      }
      item.bar.value = 0;
      finish(item, false, "Failed: the connection was lost.");
      offerLeftover(item, d, file);
    });
    xhr.addEventListener("abort", function () { cancelled(d, file, item); });
    item.cancel.onclick = function () { xhr.abort(); };
    xhr.send(resumed ? file.slice(offset) : file);
  }

  // resumeLater waits for the network (the browser's online event, or a
  // pause that grows to 30 s), asks the server how much it kept, and
  // sends the rest. After about a quarter of an hour of failures it gives
  // up and offers the usual retry.
  function resumeLater(d, file, item, tries) {
    if (tries >= 40) {
      item.bar.value = 0;
      finish(item, false, "Failed: the connection was lost and did not come back.");
      offerLeftover(item, d, file);
      return;
    }
    item.text.textContent = "Connection lost; resuming when the network is back…";
    let timer = null;
    const go = function () {
      window.removeEventListener("online", go);
      clearTimeout(timer);
      item.cancel.onclick = function () { cancelled(d, file, item); };
      ask(d, file, item, tries + 1);
    };
    item.cancel.onclick = function () {
      window.removeEventListener("online", go);
      clearTimeout(timer);
      cancelled(d, file, item);
    };
    if (navigator.onLine === false) {
      window.addEventListener("online", go);
    } else {
      timer = setTimeout(go, Math.min(1000 * Math.pow(2, Math.min(tries, 5)), 30000));
    }
  }

  // ask sends the progress query (Content-Range: bytes */size, no body).
  function ask(d, file, item, tries) {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", d.url);
    xhr.setRequestHeader("Content-Range", "bytes */" + file.size);
    xhr.setRequestHeader("X-CSRF-Token", csrf());
    xhr.setRequestHeader("Accept", "application/json");
    xhr.addEventListener("load", function () {
      const kept = parseInt(xhr.getResponseHeader("Upload-Offset") || "", 10);
      if (xhr.status >= 200 && xhr.status < 300) {
        item.bar.value = item.bar.max;
        finish(item, true, "Uploaded " + units(file.size));
        notice("ok", "The upload of " + (d.name || file.name) + " is complete.");
      } else if ((xhr.status === 308 || xhr.status === 410) && kept >= 0 && kept <= file.size) {
        send(d, file, item, kept, tries);
      } else if (xhr.status === 409 || xhr.status >= 500) {
        resumeLater(d, file, item, tries);
      } else {
        item.bar.value = 0;
        const why = apiMessage(xhr);
        finish(item, false, "Failed: " + why);
        offerLeftover(item, d, file);
      }
    });
    xhr.addEventListener("error", function () { resumeLater(d, file, item, tries); });
    xhr.send();
  }

  function cancelled(d, file, item) {
    item.bar.value = 0;
    if (d.created) {
      // The image was made for this upload and a cancelled upload is
      // not worth keeping: it would only be an empty queued image (and
      // any bytes kept) counting against the quota.
      finish(item, false, "Cancelled; removing the empty image…");
      removeImage(d).then(function (ok) {
        item.text.textContent = ok ? "Cancelled; the empty image was deleted." : "Cancelled; the image stays queued (it could not be deleted).";
        if (!ok) offerLeftover(item, d, file);
      });
      return;
    }
    finish(item, false, "Cancelled; the image stays queued.");
    offerLeftover(item, d, file);
  }

  window.addEventListener("beforeunload", function (e) {
    if (active > 0) { e.preventDefault(); e.returnValue = ""; }
  });
})();
