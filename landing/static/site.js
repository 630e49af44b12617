// Progressive enhancement for the landing, consent, error and Connected apps pages. Without this file every page
// still reads top to bottom: tabs are stacked sections, accordions are <details>, and the buttons
// that only work with script (theme, copy) stay hidden.
"use strict";

(function () {
  var THEME_KEY = "openphone-mcp-theme";
  var COPIED_MS = 2000;
  var root = document.documentElement;

  function effectiveTheme() {
    var chosen = root.getAttribute("data-theme");
    if (chosen === "light" || chosen === "dark") {
      return chosen;
    }
    return window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }

  function labelToggle(button) {
    var next = effectiveTheme() === "dark" ? "light" : "dark";
    button.setAttribute("aria-label", "Switch to " + next + " theme");
    button.setAttribute("title", "Switch to " + next + " theme");
  }

  function setUpThemeToggle(button) {
    labelToggle(button);
    button.hidden = false;
    button.addEventListener("click", function () {
      var next = effectiveTheme() === "dark" ? "light" : "dark";
      root.setAttribute("data-theme", next);
      try {
        localStorage.setItem(THEME_KEY, next);
      } catch (error) {
        // Storage refused (private mode, policy): the choice lasts for this page only.
      }
      labelToggle(button);
    });
    window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", function () {
      labelToggle(button);
    });
  }

  function announce(text) {
    var region = document.getElementById("announcer");
    if (region) {
      region.textContent = "";
      window.setTimeout(function () {
        region.textContent = text;
      }, 50);
    }
  }

  function copyWithSelection(text) {
    var buffer = document.createElement("textarea");
    buffer.className = "copy-buffer";
    buffer.setAttribute("readonly", "");
    buffer.value = text;
    document.body.appendChild(buffer);
    buffer.select();
    var copied = false;
    try {
      copied = document.execCommand("copy");
    } finally {
      document.body.removeChild(buffer);
    }
    return copied ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () {
        return copyWithSelection(text);
      });
    }
    return copyWithSelection(text);
  }

  function setUpCopyButton(button) {
    var source = document.getElementById(button.getAttribute("data-copy-target"));
    if (!source) {
      return;
    }
    var text = button.querySelector(".copy-label") || button;
    var label = text.textContent;
    var timer = 0;
    button.hidden = false;
    button.addEventListener("click", function () {
      copyText(source.textContent).then(
        function () {
          text.textContent = "Copied";
          button.classList.add("is-copied");
          announce("Copied to the clipboard");
        },
        function () {
          text.textContent = "Copy failed";
          announce("Copying was refused; select the text and copy it");
        }
      );
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        text.textContent = label;
        button.classList.remove("is-copied");
      }, COPIED_MS);
    });
  }

  // WAI-ARIA Authoring Practices "Tabs with Automatic Activation": arrow keys move and select,
  // Home and End jump, only the selected tab is in the tab order (roving tabindex).
  function setUpTabs(container) {
    var list = container.querySelector("[role=tablist]");
    var tabs = Array.prototype.slice.call(list.querySelectorAll("[role=tab]"));
    var panels = tabs.map(function (tab) {
      return document.getElementById(tab.getAttribute("aria-controls"));
    });

    function select(index, moveFocus) {
      tabs.forEach(function (tab, position) {
        var isSelected = position === index;
        tab.setAttribute("aria-selected", isSelected ? "true" : "false");
        tab.tabIndex = isSelected ? 0 : -1;
        panels[position].hidden = !isSelected;
      });
      if (moveFocus) {
        tabs[index].focus();
      }
    }

    panels.forEach(function (panel, position) {
      panel.setAttribute("role", "tabpanel");
      panel.setAttribute("aria-labelledby", tabs[position].id);
    });
    tabs.forEach(function (tab, position) {
      tab.addEventListener("click", function () {
        select(position, false);
      });
      tab.addEventListener("keydown", function (event) {
        var last = tabs.length - 1;
        var target = {
          ArrowRight: position === last ? 0 : position + 1,
          ArrowLeft: position === 0 ? last : position - 1,
          Home: 0,
          End: last,
        }[event.key];
        if (target !== undefined) {
          event.preventDefault();
          select(target, true);
        }
      });
    });
    var fromHash = panels.findIndex(function (panel) {
      return "#" + panel.id === window.location.hash;
    });
    select(fromHash >= 0 ? fromHash : 0, false);
    list.hidden = false;
    container.classList.add("is-enhanced");
  }

  // The Connected apps page: a Disconnect button asks in a dialog, then posts the confirmation
  // itself; without script (or <dialog>) the server shows the same question as a page.
  function setUpConfirm(button) {
    var dialog = document.getElementById("confirm-dialog");
    if (!dialog || typeof dialog.showModal !== "function") {
      return;
    }
    button.addEventListener("click", function (event) {
      event.preventDefault();
      dialog.querySelector("h2").textContent = button.getAttribute("data-confirm");
      dialog.querySelector("[data-confirm-yes]").onclick = function () {
        var action = document.createElement("input");
        action.type = "hidden";
        action.name = "action";
        action.value = button.getAttribute("data-confirm-action");
        button.form.appendChild(action);
        dialog.close();
        button.form.submit();
      };
      dialog.querySelector("[data-confirm-no]").onclick = function () {
        dialog.close();
      };
      dialog.showModal();
    });
  }

  function start() {
    document.querySelectorAll("[data-theme-toggle]").forEach(setUpThemeToggle);
    document.querySelectorAll("[data-copy-target]").forEach(setUpCopyButton);
    document.querySelectorAll("[data-tabs]").forEach(setUpTabs);
    document.querySelectorAll("[data-confirm]").forEach(setUpConfirm);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
