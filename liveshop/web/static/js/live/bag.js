// The shopping-bag button over the video (phones): opens the show's products as a sheet, so
// the showcase is one tap away instead of below the video. A tap on the backdrop, "Close" or
// Escape closes it; on wide screens the showcase is in the side column and the button hidden.
const button = document.querySelector("[data-region=bag]");
const sheet = document.querySelector("[data-region=bag-sheet]");
if (button && sheet) {
  button.addEventListener("click", () => {
    if (!sheet.open) sheet.showModal();
  });
  sheet.querySelector("[data-region=bag-close]").addEventListener("click", () => sheet.close());
  sheet.addEventListener("click", (event) => {
    if (event.target === sheet) sheet.close(); // a tap on the backdrop
  });
}
