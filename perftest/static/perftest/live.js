/* The run page's "Live" panel (admin/perftest/run/change_form.html): while the run is running,
   ask the admin for the panel again (views/live.py renders it with the page's own template)
   every few seconds, as often as the panel says, and put it in place without reloading the
   page; stop once the panel says the run has finished (it then says to reload for the full
   report). A refusal (logged out, no permission, the run deleted) stops it too; a failure
   that may pass (the server restarting) is tried again. A plain file, no framework and no
   inline script, so it runs under a Content-Security-Policy of script-src 'self'. */
(() => {
  "use strict";
  const panel = document.getElementById("live");
  if (!panel || !panel.dataset.liveUrl) return;

  const state = () => panel.querySelector("[data-live-state]");

  const note = (text) => {
    let line = panel.querySelector(".perftest-live-note");
    if (!line) {
      line = document.createElement("p");
      line.className = "perftest-live-note perftest-reason";
      panel.append(line);
    }
    line.textContent = text;
  };

  const later = () => {
    const current = state();
    if (!current || current.dataset.liveRunning !== "yes") return;
    setTimeout(refresh, Math.max(Number(current.dataset.liveEveryMs) || 5000, 1000));
  };

  async function refresh() {
    let response;
    try {
      response = await fetch(panel.dataset.liveUrl, {
        cache: "no-store",
        credentials: "same-origin",
        headers: { Accept: "text/html" },
      });
    } catch (error) {
      note(`The live figures could not be read (${error.message}); trying again.`);
      later();
      return;
    }
    if (response.redirected || (response.status >= 400 && response.status < 500)) {
      note(`The live figures stopped (HTTP ${response.status}): reload the page.`);
      return;
    }
    if (!response.ok) {
      note(`The live figures could not be read (HTTP ${response.status}); trying again.`);
      later();
      return;
    }
    panel.innerHTML = await response.text();
    later();
  }

  later();
})();
