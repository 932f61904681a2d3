// Finished stages are collapsed; the one just worked on (the #stage-… the form came back to) stays open.
(function () {
  const target = location.hash && document.querySelector(location.hash + ".stage details");
  if (target) target.open = true;
})();
