// Product page: show the chosen variant's price, and stop a second click from posting twice
// (the server's idempotency key would make it harmless anyway).
const form = document.getElementById("buy-form");
const price = document.getElementById("price");
if (form && price) {
  form.addEventListener("change", (event) => {
    const input = event.target;
    if (input instanceof HTMLInputElement && input.name === "sku_id" && input.dataset.price) {
      price.textContent = input.dataset.price;
    }
  });
}
if (form) {
  form.addEventListener("submit", () => {
    setTimeout(() => {
      for (const button of form.querySelectorAll("button[type=submit]")) button.disabled = true;
    }, 0);
  });
}
