// scafe studio: the little JavaScript the pages need (no build step, no framework).
// Untrusted text (criteria, messages, file names) only ever goes into the page through
// textContent, never innerHTML.
"use strict";

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}

async function postJSON(url, body) {
  const response = await fetch(url, {
    method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body),
    credentials: "same-origin",
  });
  let data = {};
  try { data = await response.json(); } catch (e) { data = {error: "the studio answered " + response.status}; }
  return {status: response.status, data: data};
}

function debounce(fn, ms) {
  let timer = null;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}

function fmt(v, digits) {
  return (v === null || v === undefined || Number.isNaN(v)) ? "n/a" : Number(v).toPrecision(digits || 3);
}

// ------------------------------------------------------------------ criteria editor
function setupEditor(root) {
  const scale = root.dataset.scale, item = root.dataset.item;
  let baseSha = root.dataset.sha;
  const yaml = document.getElementById("yaml");
  const problems = document.getElementById("problems");
  const status = document.getElementById("status");
  const diff = document.getElementById("diff");
  const prompt = document.getElementById("prompt");
  const stage = document.getElementById("stage");
  const save = document.getElementById("save");
  const saved = document.getElementById("saved");
  const notice = document.getElementById("notice");
  const extras = document.getElementById("extras");
  let original = yaml.value, lastOk = true, saving = false, seq = 0;

  document.querySelectorAll(".tab").forEach((tab) => tab.addEventListener("click", () => {
    document.querySelectorAll(".tab").forEach((t) => t.classList.toggle("on", t === tab));
    document.querySelectorAll(".tabpane").forEach((p) => p.classList.toggle("hidden", p.id !== "pane-" + tab.dataset.tab));
  }));

  function showProblems(list) {
    problems.replaceChildren(...list.map((p) => el("li", p)));
    status.textContent = list.length ? "invalid" : "valid";
    status.className = list.length ? "bad" : "ok";
  }

  function showDiff(lines) {
    if (!lines.length) { diff.replaceChildren(el("span", "no changes", "muted")); return; }
    const kinds = {"+": "da", "-": "dr", "@": "dh", "h": "dh", " ": ""};
    diff.replaceChildren(...lines.map(([kind, line]) => el("span", line, kinds[kind] || "")));
  }

  function showExtras(list) {
    if (!extras || !list) return;
    if (!list.length) {
      extras.replaceChildren(el("p", "This item has no test specification beyond its ground truth (edit it in the YAML tab).", "muted"));
      return;
    }
    const nodes = [];
    list.forEach(([key, dump]) => { nodes.push(el("h4", key)); nodes.push(el("pre", dump, "yaml")); });
    extras.replaceChildren(...nodes);
  }

  async function check() {
    const mine = ++seq;
    const {status: code, data} = await postJSON(`/api/criteria/${scale}/check`, {text: yaml.value, item: item, stage: stage.value});
    if (mine !== seq) return;  // a newer edit is being checked
    if (code !== 200) { showProblems([data.error || "check failed"]); return; }
    lastOk = data.ok;
    showProblems(data.problems);
    showDiff(data.diff);
    showExtras(data.extras);
    prompt.textContent = data.prompt || data.prompt_error;
    prompt.classList.toggle("muted", !data.prompt);
    if (save) save.disabled = !(data.ok && data.changed);
  }
  const checkSoon = debounce(check, 250);
  yaml.addEventListener("input", () => { saved.classList.add("hidden"); checkSoon(); });
  stage.addEventListener("change", check);

  function formFields() {
    const fields = {};
    document.querySelectorAll("[data-field]").forEach((input) => {
      fields[input.dataset.field] = input.type === "checkbox" ? input.checked : input.value;
    });
    const anchors = {};
    document.querySelectorAll("[data-anchor]").forEach((input) => { anchors[input.dataset.anchor] = input.value; });
    const gt = {};
    document.querySelectorAll("[data-gt]").forEach((input) => { gt[input.dataset.gt] = input.value; });
    fields.anchors = anchors;
    if (Object.keys(gt).length) fields.ground_truth = gt;
    return fields;
  }
  const applyForm = debounce(async () => {
    const {status: code, data} = await postJSON(`/api/criteria/${scale}/form`, {text: yaml.value, item: item, fields: formFields()});
    if (code !== 200) { showProblems([data.error]); return; }
    yaml.value = data.text;
    check();
  }, 250);
  document.querySelectorAll("#pane-form input, #pane-form textarea, #pane-form select").forEach((input) => {
    input.addEventListener(input.type === "checkbox" || input.tagName === "SELECT" ? "change" : "input", () => {
      saved.classList.add("hidden");
      applyForm();
    });
    if (root.dataset.readOnly === "1") input.disabled = true;
  });

  if (save) save.addEventListener("click", async () => {
    saving = true;
    save.disabled = true;
    const {status: code, data} = await postJSON(`/api/criteria/${scale}/save`, {text: yaml.value, base_sha256: baseSha});
    saving = false;
    if (code === 200) {
      baseSha = data.sha256;
      original = yaml.value;
      showDiff([]);
      saved.replaceChildren(el("span", `Saved ${data.saved}. `));
      if (data.stale.length) {
        saved.append(el("span", `${data.stale.length} extractor(s) of this file are now stale: ` + data.stale.map((r) => r.label).join(", ") + ". "));
        const link = el("a", "See stale extractors");
        link.href = "/stale";
        saved.append(link);
      }
      saved.classList.remove("hidden");
      const rows = document.querySelectorAll("#item-extractors td.state-active, #item-extractors td.state-stale");
      const staleLabels = new Set(data.stale.map((r) => r.label));
      rows.forEach((td) => {
        const label = td.parentElement.querySelector("a").textContent;
        if (staleLabels.has(label)) { td.textContent = "stale"; td.className = "state-stale"; }
      });
    } else {
      showProblems(data.problems || [data.error]);
      if (data.conflict) { notice.textContent = data.error; notice.classList.remove("hidden"); }
      save.disabled = false;
    }
  });

  // a file edited outside the studio: say so and reload (or offer to, when there are unsaved edits)
  setInterval(async () => {
    if (saving) return;
    let data;
    try { data = await (await fetch(`/api/criteria/${scale}/sha`, {credentials: "same-origin"})).json(); } catch (e) { return; }
    if (!data.sha256 || data.sha256 === baseSha || saving) return;
    if (yaml.value === original) {
      notice.textContent = "This file was changed outside the studio; reloading…";
      notice.classList.remove("hidden");
      const url = new URL(window.location.href);
      url.searchParams.set("changed", "1");
      window.location.replace(url.toString());
    } else {
      notice.replaceChildren(el("span", "This file was changed outside the studio while you were editing; your edits are not saved. "));
      const reload = el("button", "Reload the file (drops your edits)");
      reload.type = "button";
      reload.addEventListener("click", () => window.location.reload());
      notice.append(reload);
      notice.classList.remove("hidden");
    }
  }, 1500);

  check();
}

// ------------------------------------------------------------------ background jobs
async function pollJob(job, onUpdate) {
  for (;;) {
    const data = await (await fetch(`/api/jobs/${job.id}`, {credentials: "same-origin"})).json();
    onUpdate(data);
    if (data.state === "done" || data.state === "failed") return data;
    await new Promise((resolve) => setTimeout(resolve, 400));
  }
}

function setupVerify(box) {
  const button = box.querySelector(".run-tests");
  const jobBox = box.querySelector(".job");
  const bar = jobBox.querySelector("progress");
  const step = jobBox.querySelector(".job-step");
  const table = box.querySelector(".job-results");
  const readOnly = document.getElementById("read-only") !== null;

  function progress(data) {
    bar.max = data.total; bar.value = data.done;
    step.textContent = `${data.done}/${data.total} · ${data.step} · ${data.seconds} s`;
  }

  button.addEventListener("click", async () => {
    button.disabled = true;
    jobBox.classList.remove("hidden");
    table.classList.add("hidden");
    const {status: code, data: job} = await postJSON("/api/verify", {item: box.dataset.item});
    if (code !== 202) { step.textContent = job.error; button.disabled = false; return; }
    const done = await pollJob(job, progress);
    button.disabled = false;
    if (done.state === "failed") { step.textContent = "failed: " + done.error; return; }
    const body = table.querySelector("tbody");
    body.replaceChildren();
    done.result.results.forEach((r) => {
      const tr = el("tr");
      tr.dataset.label = r.label;
      tr.append(el("td", r.label), el("td", r.ok ? "passed" : "FAILED", r.ok ? "ok" : "bad"),
                el("td", fmt(r.rho, 3)), el("td", r.failures.join("; ") || `contract ${r.contract}, criterion ${r.criterion}`, "small"));
      const action = el("td");
      if (r.ok && r.stale && !readOnly) {
        const accept = el("button", "Accept (refresh)", "accept");
        accept.type = "button";
        accept.addEventListener("click", async () => {
          accept.disabled = true;
          const {status: c2, data: job2} = await postJSON("/api/refresh", {label: r.label});
          if (c2 !== 202) { action.replaceChildren(el("span", job2.error, "bad")); return; }
          const fin = await pollJob(job2, progress);
          action.replaceChildren(fin.state === "done" ? el("span", "accepted: no longer stale", "ok accepted")
                                                      : el("span", fin.error, "bad"));
        });
        action.append(accept);
      } else if (r.ok) {
        action.append(el("span", r.stale ? "passes (read-only: cannot accept)" : "up to date", "muted"));
      } else {
        action.append(el("span", "regenerate it (scafe generate)", "muted"));
      }
      tr.append(action);
      body.append(tr);
    });
    table.classList.remove("hidden");
  });
}

// ------------------------------------------------------------------ grading
function setupGrading(root) {
  const ref = root.dataset.item;
  const error = document.getElementById("grade-error");
  root.addEventListener("change", async (event) => {
    const input = event.target;
    if (input.type !== "radio") return;
    const card = input.closest("[data-case]");
    const {status: code, data} = await postJSON("/api/grades", {item: ref, case: card.dataset.case, grade: input.value});
    if (code !== 200) { error.textContent = data.error; error.classList.remove("hidden"); return; }
    error.classList.add("hidden");
    card.classList.add("graded");
    document.getElementById("graded").textContent = data.graded;
    const body = document.querySelector("#agreement tbody");
    body.replaceChildren(...data.rows.map((r) => {
      const tr = el("tr");
      tr.dataset.column = r.column;
      tr.append(el("td", r.column), el("td", fmt(r.rho, 3), "num rho"), el("td", r.n, "num"), el("td", fmt(r.p, 2), "num"));
      return tr;
    }));
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const editor = document.getElementById("editor");
  if (editor) setupEditor(editor);
  document.querySelectorAll(".verify").forEach(setupVerify);
  const grading = document.getElementById("grading");
  if (grading) setupGrading(grading);
  const loading = document.getElementById("loading");
  if (loading) setTimeout(() => window.location.reload(), 1500);
  const sort = document.getElementById("sort");
  if (sort) sort.addEventListener("change", () => document.getElementById("sortform").submit());
});
