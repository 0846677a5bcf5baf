// Behaviour without inline scripts (the Content-Security-Policy refuses them).
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-spip-print]")) {
    window.print();
  }
});

// The BEX desk: the reason for a slot beyond the legal deadline is asked for only when
// such a slot is chosen (without scripts, the field stays visible whenever one is offered).
function spipBeyondReason() {
  const box = document.querySelector("[data-beyond-reason]");
  if (!box) return;
  const chosen = document.querySelector("input[name=slot]:checked");
  box.hidden = !(chosen && chosen.hasAttribute("data-beyond"));
}
document.addEventListener("change", (event) => {
  if (event.target.name === "slot") spipBeyondReason();
});
document.addEventListener("DOMContentLoaded", spipBeyondReason);
