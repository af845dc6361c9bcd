// Progressive enhancement of the SCI form: choosing in a select marked data-refresh
// submits the form's "Update choices" button, so the next pickers fill at once.
document.addEventListener("change", (event) => {
  const select = event.target;
  if (!(select instanceof HTMLSelectElement) || !select.hasAttribute("data-refresh")) {
    return;
  }
  const refresh = select.form && select.form.querySelector("button[name=refresh]");
  if (refresh) {
    select.form.requestSubmit(refresh);
  }
});
