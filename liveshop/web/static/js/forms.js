// Disable a form's submit button once it is sent, so an impatient second tap does nothing.
for (const form of document.querySelectorAll("form[method=post]")) {
  form.addEventListener("submit", () => {
    setTimeout(() => {
      for (const button of form.querySelectorAll("button[type=submit]")) {
        button.disabled = true;
        button.setAttribute("aria-busy", "true");
      }
    }, 0);
  });
}
