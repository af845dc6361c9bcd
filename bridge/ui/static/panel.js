// Search as you type on the issue panel: two characters and a short pause fetch the same
// page the Search button would, and swap in just that card's results. Without this script
// the Search button does the same with a page load.
const PAUSE_MS = 300;

async function showResults(form) {
  const url = `${form.action}?${new URLSearchParams(new FormData(form))}`;
  const answer = await fetch(url, { credentials: "same-origin" });
  if (!answer.ok) {
    return;
  }
  const page = new DOMParser().parseFromString(await answer.text(), "text/html");
  const card = form.closest("article");
  const fresh = page.getElementById(card.id);
  const outcome = fresh && fresh.querySelector(".search-outcome");
  if (outcome) {
    card.querySelector(".search-outcome").replaceWith(outcome);
    history.replaceState(null, "", url);
  }
}

document.querySelectorAll("form.search").forEach((form) => {
  const input = form.querySelector("input[type=search]");
  let timer;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    if (input.value.trim().length >= 2) {
      timer = setTimeout(() => showResults(form), PAUSE_MS);
    }
  });
});
