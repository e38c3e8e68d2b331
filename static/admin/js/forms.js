// Forms and dialogs. A form is described by its fields; the API's
// `errors { field code message }` land next to the field they name, other
// failures at the top of the form.

import { ApiError } from "./api.js";
import { h, nextId } from "./dom.js";
import { t } from "./i18n.js";

function control(spec, id, hintId, errorId) {
  const common = {
    id,
    name: spec.name,
    required: spec.required,
    autocomplete: spec.autocomplete,
    placeholder: spec.placeholder,
    inputmode: spec.inputmode,
    pattern: spec.pattern,
    min: spec.min,
    max: spec.max,
    maxlength: spec.maxlength,
    class: spec.class,
    "aria-describedby": [hintId, errorId].filter(Boolean).join(" "),
    autofocus: spec.autofocus,
  };
  if (spec.type === "select") {
    return h("select", { ...common, value: spec.value },
      (spec.options || []).map(([value, label]) => h("option", { value }, label)));
  }
  if (spec.type === "textarea") return h("textarea", { ...common, value: spec.value ?? "" });
  if (spec.type === "checkbox") return h("input", { ...common, type: "checkbox", checked: !!spec.value });
  return h("input", { ...common, type: spec.type || "text", value: spec.value ?? "" });
}

function fieldBlock(spec, registry) {
  const id = nextId(spec.name);
  const hintId = spec.hint ? `${id}-hint` : null;
  const errorId = `${id}-error`;
  const input = control(spec, id, hintId, errorId);
  const error = h("p", { class: "error", id: errorId });
  // An error about the old value goes once the value changes (not left standing until the next submit).
  const forget = () => {
    if (!error.textContent) return;
    error.textContent = "";
    input.removeAttribute("aria-invalid");
  };
  input.addEventListener("input", forget);
  input.addEventListener("change", forget);
  registry[spec.name] = { input, error, spec };
  const label = h("label", { for: id }, spec.label);
  const hint = spec.hint ? h("p", { class: "hint", id: hintId }, spec.hint) : null;
  if (spec.type === "checkbox") {
    return h("div", { class: "field" }, h("div", { class: "check" }, input, label), hint, error);
  }
  return h("div", { class: "field", hidden: spec.hidden }, label, input, hint, error);
}

/** The value of one control, typed by its kind. */
function valueOf({ input, spec }) {
  if (spec.type === "checkbox") return input.checked;
  if (spec.type === "number") return input.value === "" ? null : Number(input.value);
  return input.value;
}

export function buildForm({ fields, submitLabel = t("Save"), onSubmit, onSuccess, secondary = [], danger = false, label }) {
  const registry = {};
  const formError = h("div", { class: "form-error", role: "alert", tabindex: "-1" });
  const submit = h("button", { type: "submit", class: danger ? "danger" : "primary" }, submitLabel);
  const blocks = fields.map((spec) => {
    if (spec instanceof Node) return spec;
    if (spec.row) return h("div", { class: "row" }, spec.row.map((s) => fieldBlock(s, registry)));
    return fieldBlock(spec, registry);
  });
  const form = h("form", { class: "form", novalidate: true, "aria-label": label },
    formError, blocks, h("div", { class: "actions" }, submit, secondary));

  const api = {
    el: form,
    fields: registry,
    values() {
      return Object.fromEntries(Object.entries(registry).map(([name, f]) => [name, valueOf(f)]));
    },
    clearErrors() {
      formError.textContent = "";
      for (const { input, error } of Object.values(registry)) {
        error.textContent = "";
        input.removeAttribute("aria-invalid");
      }
    },
    setError(message) {
      formError.textContent = message;
    },
    /** Show the API's UserErrors; returns true if there were any. */
    showErrors(errors) {
      const general = [];
      let first = null;
      for (const e of errors || []) {
        const name = e.field ? e.field.split(".").pop() : null;
        const target = name && (registry[name] || registry[Object.keys(registry).find((k) => k.toLowerCase() === name.toLowerCase())]);
        if (target && !target.spec.hidden) {
          target.error.textContent = e.message;
          target.input.setAttribute("aria-invalid", "true");
          first ??= target.input;
        } else {
          general.push(e.message);
        }
      }
      formError.textContent = general.join(" ");
      if (first) first.focus();
      else if (general.length) formError.focus?.();
      return (errors || []).length > 0;
    },
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    api.clearErrors();
    // Required fields first, in the browser, with the same presentation.
    const missing = Object.entries(registry)
      .filter(([, f]) => f.spec.required && !f.spec.hidden && f.spec.type !== "checkbox" && !f.input.value.trim())
      .map(([name, f]) => ({ field: name, message: t("Fill in “{field}”.", { field: f.spec.label }) }));
    if (missing.length) {
      api.showErrors(missing);
      return;
    }
    submit.disabled = true;
    form.setAttribute("aria-busy", "true");
    try {
      const payload = await onSubmit(api.values(), api);
      if (payload && api.showErrors(payload.errors)) return;
      await onSuccess?.(payload, api.values(), api);
    } catch (error) {
      if (error instanceof ApiError && error.code === "CANCELLED") return;
      api.setError(error.message || t("Something went wrong."));
    } finally {
      submit.disabled = false;
      form.removeAttribute("aria-busy");
    }
  });
  return api;
}

/** A modal dialog (native <dialog>: focus is kept inside, Esc closes). */
export function openDialog(title, build, { onClose } = {}) {
  const titleId = nextId("dialog-title");
  const dialog = h("dialog", { "aria-labelledby": titleId });
  const close = () => dialog.close();
  dialog.append(h("h2", { id: titleId }, title));
  const content = build(close, dialog);
  if (content) dialog.append(content);
  document.body.append(dialog);
  dialog.addEventListener("close", () => {
    dialog.remove();
    onClose?.();
  });
  dialog.showModal();
  return { dialog, close };
}

/** Ask before a consequential action. Resolves to true when confirmed. */
export function confirmDialog({ title, message, confirmLabel = t("Confirm"), danger = false }) {
  return new Promise((resolve) => {
    let confirmed = false;
    openDialog(title, (close) => h("div", {},
      h("p", {}, message),
      h("div", { class: "actions end" },
        h("button", { type: "button", autofocus: true, onclick: close }, t("Cancel")),
        h("button", {
          type: "button",
          class: danger ? "danger" : "primary",
          onclick: () => { confirmed = true; close(); },
        }, confirmLabel))),
    { onClose: () => resolve(confirmed) });
  });
}

/** A dialog holding a form; the dialog closes when the form succeeds. */
export function formDialog(title, options) {
  let form;
  const { close } = openDialog(title, (closeDialog) => {
    form = buildForm({
      ...options,
      secondary: [h("button", { type: "button", onclick: closeDialog }, t("Cancel")), ...(options.secondary || [])],
      onSuccess: async (payload, values, api) => {
        const keepOpen = await options.onSuccess?.(payload, values, api);
        if (keepOpen !== true) closeDialog();
      },
    });
    return h("div", {}, options.intro ? h("p", {}, options.intro) : null, form.el);
  }, { onClose: options.onClose });
  return { form, close };
}
