// Behaviour without inline scripts (the Content-Security-Policy refuses them).
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-spip-print]")) {
    window.print();
  }
});
