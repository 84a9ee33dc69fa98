// The file manager's page: plain JavaScript, no build step.
//
// It reads config.json beside it (the API's URL and the user pool's ids),
// signs in against the pool's public JSON API, calls only the documented
// routes (chalicelib/openapi.json), sends bytes straight to S3 with the
// presigned form, and follows the change feed for live status. Files can be
// renamed or moved, put in the trash and restored from it, or deleted for good.

const SESSION_KEY = "filemanager.session";
const EXPIRY_MARGIN_MS = 60_000;
const FEED_INTERVAL_MS = 1500;
const PAGE_SIZE = 100;
// Hashing needs the whole file in memory (crypto.subtle has no streaming).
// LIMITATION: larger files are uploaded without a declared SHA-256.
const MAX_HASHED_BYTES = 256 * 1024 * 1024;
const CONFIRM_MS = 4000;

const $ = (selector) => document.querySelector(selector);

class AppError extends Error {
  constructor(code, message, status = 0, details = null) {
    super(message);
    this.code = code;
    this.status = status;
    this.details = details;
  }
}

const app = {
  config: null,
  session: null,
  folder: "",
  nextCursor: null,
  feedCursor: null,
  feedTimer: null,
  // Each listing counts up, so an answer to an older one is dropped.
  generation: 0,
  relistTimer: null,
  // "files" or "trash": which of the two views is shown
  view: "files",
  trashCursor: null,
  trashGeneration: 0,
  // file id -> what to do when the change feed reports it
  watching: new Map(),
};

// --- messages ------------------------------------------------------------------

function explain(error) {
  switch (error.code) {
    case "SessionEnded":
      return "Your session has ended. Please sign in again.";
    case "QuotaExceeded": {
      const stands = error.details;
      if (!stands || !stands.bytes) return `Not enough room: ${error.message}`;
      return (
        `Not enough room: you store ${stands.files.used.toLocaleString()} of ` +
        `${stands.files.limit.toLocaleString()} files and ` +
        `${humanSize(stands.bytes.used)} of ${humanSize(stands.bytes.limit)}. ` +
        "Delete some files first."
      );
    }
    case "NameConflict":
      return `${error.message.replace(/\.$/, "")}. Rename the file, or delete the old one first.`;
    case "Unreachable":
      return error.message;
    case "NotAuthorizedException":
    case "UserNotFoundException":
      return "Wrong user name or password.";
    default:
      return error.message || String(error);
  }
}

function say(text, kind = "error") {
  const box = $("#message");
  box.textContent = text;
  box.className = kind === "info" ? "info" : "";
  box.hidden = !text;
}

function fail(error) {
  if (!(error instanceof AppError)) console.error(error);
  say(explain(error));
  if (error.code === "SessionEnded") showSignIn();
}

// --- configuration and HTTP ---------------------------------------------------

async function loadConfig() {
  let response;
  try {
    response = await fetch("config.json", { cache: "no-store" });
  } catch (error) {
    throw new AppError("Unreachable", "Cannot load config.json.");
  }
  if (!response.ok) {
    throw new AppError(
      "NoConfig",
      "config.json is missing: copy config.example.json and fill it in.",
    );
  }
  const config = await response.json();
  for (const key of ["apiUrl", "userPoolId", "clientId"]) {
    if (!config[key]) throw new AppError("NoConfig", `config.json lacks ${key}.`);
  }
  // A pool's id starts with its region ("eu-west-1_AbC123").
  config.region = config.region || config.userPoolId.split("_")[0];
  config.apiUrl = config.apiUrl.replace(/\/+$/, "");
  config.cognitoUrl = config.cognitoEndpoint
    ? config.cognitoEndpoint.replace(/\/+$/, "") + "/"
    : `https://cognito-idp.${config.region}.amazonaws.com/`;
  return config;
}

async function send(url, options, what) {
  // Throttling and passing failures get a few tries, with growing waits.
  for (let attempt = 0; ; attempt++) {
    let response;
    try {
      response = await fetch(url, options);
    } catch (error) {
      if (attempt < 2) {
        await pause(500 * 2 ** attempt);
        continue;
      }
      throw new AppError("Unreachable", `Cannot reach ${what}. Is it running?`);
    }
    if (![429, 500, 502, 503, 504].includes(response.status) || attempt >= 3) {
      return response;
    }
    await pause(Math.random() * 500 * 2 ** attempt);
  }
}

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// --- the session ------------------------------------------------------------------

function tokenExpiry(token) {
  const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(atob(payload)).exp * 1000;
}

async function initiateAuth(flow, parameters) {
  const response = await send(
    app.config.cognitoUrl,
    {
      method: "POST",
      headers: {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
      },
      body: JSON.stringify({
        AuthFlow: flow,
        ClientId: app.config.clientId,
        AuthParameters: parameters,
      }),
    },
    "the sign-in service",
  );
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const code = String(body.__type || "SignInFailed").split("#").pop();
    throw new AppError(code, body.message || `Sign-in failed (${response.status}).`);
  }
  if (!body.AuthenticationResult) {
    throw new AppError(
      "Challenge",
      `The user pool asks for ${body.ChallengeName}, which this page cannot answer.`,
    );
  }
  return body.AuthenticationResult;
}

function keepSession(session) {
  app.session = session;
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
}

async function signIn(username, password) {
  const result = await initiateAuth("USER_PASSWORD_AUTH", {
    USERNAME: username,
    PASSWORD: password,
  });
  keepSession({
    username,
    idToken: result.IdToken,
    refreshToken: result.RefreshToken,
    expiresAt: tokenExpiry(result.IdToken),
  });
}

async function refresh() {
  try {
    const result = await initiateAuth("REFRESH_TOKEN_AUTH", {
      REFRESH_TOKEN: app.session.refreshToken,
    });
    keepSession({
      ...app.session,
      idToken: result.IdToken,
      refreshToken: result.RefreshToken || app.session.refreshToken,
      expiresAt: tokenExpiry(result.IdToken),
    });
  } catch (error) {
    if (error.code === "Unreachable") throw error;
    endSession();
    throw new AppError("SessionEnded", "The session could not be refreshed.");
  }
}

async function idToken() {
  if (!app.session) throw new AppError("SessionEnded", "Not signed in.");
  if (app.session.expiresAt - EXPIRY_MARGIN_MS < Date.now()) await refresh();
  return app.session.idToken;
}

function endSession() {
  app.session = null;
  sessionStorage.removeItem(SESSION_KEY);
  stopFeed();
}

// --- the API ------------------------------------------------------------------------

async function api(method, path, { query, body, headers } = {}) {
  const url = new URL(app.config.apiUrl + path);
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== null && value !== undefined && value !== "") {
      url.searchParams.set(key, value);
    }
  }
  for (let attempt = 0; attempt < 2; attempt++) {
    const options = {
      method,
      headers: { ...(headers || {}), Authorization: await idToken() },
    };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await send(url, options, "the file manager");
    if (response.status === 401 && attempt === 0) {
      // Revoked, or a clock off: one refresh, then one more try.
      await refresh();
      continue;
    }
    if (response.status === 401) {
      endSession();
      throw new AppError("SessionEnded", "The API refused the session.");
    }
    const answer = await response.json().catch(() => null);
    if (!response.ok) {
      const code = answer && answer.Code ? answer.Code : `HTTP${response.status}`;
      const message =
        (answer && (answer.Message || answer.message)) ||
        `The file manager answered ${response.status}.`;
      throw new AppError(code, message, response.status, answer && answer.Details);
    }
    return answer;
  }
}

// --- signing in and out --------------------------------------------------------------

function showSignIn() {
  if (app.config && app.config.demoUser) {
    $("#demo-hint").textContent =
      `Local stack: sign in as ${app.config.demoUser} / ${app.config.demoPassword}`;
    $("#demo-hint").hidden = false;
  }
  $("#sign-in").hidden = false;
  $("#browser").hidden = true;
  $("#account").hidden = true;
  $("#sign-in input[name=username]").focus();
}

async function showBrowser() {
  $("#sign-in").hidden = true;
  $("#browser").hidden = false;
  $("#account").hidden = false;
  $("#who").textContent = app.session.username;
  await startFeed();
  await Promise.all([showView("files"), showUsage()]);
}

async function onSignIn(event) {
  event.preventDefault();
  const form = event.target;
  const button = form.querySelector("button");
  button.disabled = true;
  try {
    await signIn(form.username.value.trim(), form.password.value);
    form.password.value = "";
    say("");
    await showBrowser();
  } catch (error) {
    fail(error);
  } finally {
    button.disabled = false;
  }
}

function onSignOut() {
  endSession();
  say("Signed out.", "info");
  showSignIn();
}

// --- usage -------------------------------------------------------------------------------

async function showUsage() {
  const box = $("#usage");
  let usage;
  try {
    usage = await api("GET", "/usage");
  } catch (error) {
    // A stage from before quotas has no GET /usage: show nothing.
    if (error.code === "SessionEnded") throw error;
    box.hidden = true;
    return;
  }
  const { files, bytes } = usage;
  $("#usage-text").textContent =
    `${files.used.toLocaleString()} of ${files.limit.toLocaleString()} files · ` +
    `${humanSize(bytes.used)} of ${humanSize(bytes.limit)}`;
  const meter = $("#usage-meter");
  meter.value = bytes.limit ? bytes.used / bytes.limit : 0;
  box.hidden = false;
}

// --- browsing -------------------------------------------------------------------------------

async function openFolder(folder) {
  app.folder = folder;
  app.nextCursor = null;
  const generation = ++app.generation;
  showCrumbs();
  await loadPage(generation, true);
}

async function loadPage(generation, fresh = false) {
  const page = await api("GET", "/files", {
    query: {
      prefix: app.folder,
      delimiter: "/",
      limit: PAGE_SIZE,
      cursor: app.nextCursor,
    },
  });
  if (generation !== app.generation) return;
  const body = $("#listing tbody");
  if (fresh) body.replaceChildren();
  for (const folder of page.folders) body.append(folderRow(folder.name));
  for (const item of page.items) body.append(fileRow(item));
  app.nextCursor = page.next_cursor;
  $("#more").hidden = !app.nextCursor;
  $("#empty").hidden = body.children.length > 0;
}

function showCrumbs() {
  const crumbs = $("#crumbs");
  crumbs.replaceChildren(link("All files", () => openFolder("")));
  let path = "";
  for (const part of app.folder.split("/").filter(Boolean)) {
    path += `${part}/`;
    const target = path;
    const sep = document.createElement("span");
    sep.className = "sep";
    sep.textContent = "/";
    crumbs.append(sep, link(part, () => openFolder(target)));
  }
  $("#drop-folder").textContent = app.folder || "the top folder";
}

function link(text, onClick) {
  const a = document.createElement("a");
  a.textContent = text;
  a.href = "#";
  a.addEventListener("click", (event) => {
    event.preventDefault();
    onClick().catch(fail);
  });
  return a;
}

function cell(text, className) {
  const td = document.createElement("td");
  if (className) td.className = className;
  if (text instanceof Node) td.append(text);
  else td.textContent = text;
  return td;
}

function folderRow(name) {
  const row = document.createElement("tr");
  row.className = "folder";
  const label = name.slice(app.folder.length);
  row.append(
    cell(link(label, () => openFolder(name)), "name"),
    cell("", "size"),
    cell(""),
    cell(""),
  );
  return row;
}

function fileRow(item) {
  const row = document.createElement("tr");
  row.className = "file";
  row.dataset.fileId = item.file_id;
  row.dataset.name = item.name;
  const actions = cell("", "actions");
  const status = document.createElement("span");
  status.className = "state";
  const download = button("Download", () => downloadFile(item));
  const rename = button("Rename", () => renameFile(item, status));
  const trash = button("Trash", () => trashFile(item, row, status));
  const remove = button("Delete", () => deleteFile(item, row, remove, status));
  remove.classList.add("danger");
  actions.append(status, download, rename, trash, remove);
  row.append(
    cell(item.name.slice(app.folder.length), "name"),
    cell(humanSize(item.size), "size"),
    cell(item.uploaded_at ? new Date(item.uploaded_at).toLocaleString() : ""),
    actions,
  );
  return row;
}

function button(text, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = text;
  b.addEventListener("click", () => onClick().catch(fail));
  return b;
}

// --- download and delete ------------------------------------------------------------------

async function downloadFile(item) {
  const details = await api("GET", `/files/${item.file_id}`);
  if (!details.download_url) {
    throw new AppError("NotAvailable", `${item.name} is ${details.status}.`);
  }
  // The URL answers with Content-Disposition: attachment and the file's name.
  const a = document.createElement("a");
  a.href = details.download_url;
  a.rel = "noopener";
  document.body.append(a);
  a.click();
  a.remove();
}

async function deleteFile(item, row, remove, status) {
  // Delete is for good (from the listing or the trash); Trash is the undoable one.
  const label = remove.dataset.label || (remove.dataset.label = remove.textContent);
  if (!remove.classList.contains("confirm")) {
    // A second click within a few seconds confirms.
    remove.classList.add("confirm");
    remove.textContent = "Really delete?";
    setTimeout(() => {
      remove.classList.remove("confirm");
      remove.textContent = label;
    }, CONFIRM_MS);
    return;
  }
  remove.disabled = true;
  remove.classList.remove("confirm");
  remove.textContent = label;
  status.textContent = "deleting…";
  const answer = await api("DELETE", `/files/${item.file_id}`).catch((error) => {
    remove.disabled = false;
    status.textContent = "";
    throw error;
  });
  const done = () => {
    status.textContent = "deleted";
    status.classList.add("good");
    row.classList.add("gone");
    row.querySelectorAll("button").forEach((b) => (b.disabled = true));
    showUsage().catch(fail);
  };
  if (answer.status === "DELETED") done();
  else app.watching.set(item.file_id, { deleted: done });
}

// --- rename, trash, restore ------------------------------------------------------------

function settle(row, status, text) {
  status.textContent = text;
  status.classList.add("good");
  row.classList.add("gone");
  row.querySelectorAll("button").forEach((b) => (b.disabled = true));
}

// The page's own change comes back on the feed: swallow it there, since the
// answer has already told the row.
const expectChange = (fileId, type) => app.watching.set(fileId, { [type]: () => {} });

async function renameFile(item, status) {
  const wanted = prompt(
    "New name (a path such as docs/report.pdf; end with / to move into a folder):",
    item.name,
  );
  if (wanted === null || wanted.trim() === "" || wanted === item.name) return;
  const name = wanted.endsWith("/")
    ? wanted.replace(/^\/+/, "") + item.name.split("/").pop()
    : wanted;
  status.textContent = "renaming…";
  expectChange(item.file_id, "renamed");
  let answer;
  try {
    answer = await api("PATCH", `/files/${item.file_id}`, { body: { name } });
  } catch (error) {
    app.watching.delete(item.file_id);
    status.textContent = "";
    throw error;
  }
  say(`Renamed ${item.name} to ${answer.name}.`, "info");
  await openFolder(app.folder);
}

async function trashFile(item, row, status) {
  status.textContent = "trashing…";
  expectChange(item.file_id, "trashed");
  await api("POST", `/files/${item.file_id}/trash`).catch((error) => {
    app.watching.delete(item.file_id);
    status.textContent = "";
    throw error;
  });
  settle(row, status, "in the trash");
}

async function restoreFile(item, row, status) {
  status.textContent = "restoring…";
  expectChange(item.file_id, "restored");
  const answer = await api("POST", `/files/${item.file_id}/restore`).catch((error) => {
    app.watching.delete(item.file_id);
    status.textContent = "";
    throw error;
  });
  settle(row, status, answer.name === item.name ? "restored" : `restored as ${answer.name}`);
}

// --- the trash view ---------------------------------------------------------------------

async function showView(view) {
  say("");
  app.view = view;
  $("#files-view").hidden = view !== "files";
  $("#trash-view").hidden = view !== "trash";
  $("#show-files").setAttribute("aria-pressed", String(view === "files"));
  $("#show-trash").setAttribute("aria-pressed", String(view === "trash"));
  if (view === "trash") await openTrash();
  else await openFolder(app.folder);
}

async function openTrash() {
  app.trashCursor = null;
  await loadTrashPage(++app.trashGeneration, true);
}

async function loadTrashPage(generation, fresh = false) {
  const page = await api("GET", "/trash", {
    query: { limit: PAGE_SIZE, cursor: app.trashCursor },
  });
  if (generation !== app.trashGeneration) return;
  const body = $("#trash-listing tbody");
  if (fresh) body.replaceChildren();
  for (const item of page.items) body.append(trashRow(item));
  app.trashCursor = page.next_cursor;
  $("#trash-more").hidden = !app.trashCursor;
  $("#trash-empty").hidden = body.children.length > 0;
  $("#trash-note").textContent =
    `Files in the trash still count toward your usage, and are deleted for ` +
    `good ${page.retention_days} days after they were trashed.`;
}

function trashRow(item) {
  const row = document.createElement("tr");
  row.className = "file";
  row.dataset.fileId = item.file_id;
  row.dataset.name = item.name;
  const actions = cell("", "actions");
  const status = document.createElement("span");
  status.className = "state";
  const restore = button("Restore", () => restoreFile(item, row, status));
  const remove = button("Delete forever", () => deleteFile(item, row, remove, status));
  remove.classList.add("danger");
  actions.append(status, restore, remove);
  row.append(
    cell(item.name, "name"),
    cell(humanSize(item.size), "size"),
    cell(item.trashed_at ? new Date(item.trashed_at).toLocaleString() : ""),
    actions,
  );
  return row;
}

// Someone else's change (another tab, the CLI) is told row by row: a relist
// would lose the states of rows the user is acting on.
async function onTrashChange(change) {
  const rowOf = () => $(`#trash-listing tr[data-file-id="${change.file_id}"]`);
  const row = rowOf();
  if (change.type === "trashed" && !row) {
    const item = await api("GET", `/files/${change.file_id}`).catch((error) => {
      if (error.code === "FileNotFound") return null;
      throw error;
    });
    if (!item || item.status !== "TRASHED" || app.view !== "trash" || rowOf()) return;
    $("#trash-listing tbody").prepend(trashRow(item));
    $("#trash-empty").hidden = true;
  } else if (row && !row.classList.contains("gone")) {
    const status = row.querySelector(".state");
    if (change.type === "deleted") settle(row, status, "deleted");
    if (change.type === "restored") {
      const renamed = change.name !== row.dataset.name;
      settle(row, status, renamed ? `restored as ${change.name}` : "restored");
    }
  }
}

// --- uploads ------------------------------------------------------------------------------------

async function sha256Hex(file) {
  if (!crypto.subtle || file.size > MAX_HASHED_BYTES) return null;
  const digest = await crypto.subtle.digest("SHA-256", await file.arrayBuffer());
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function uploadRow(name) {
  const li = document.createElement("li");
  const label = document.createElement("span");
  label.textContent = name;
  const bar = document.createElement("progress");
  bar.max = 1;
  bar.value = 0;
  const state = document.createElement("span");
  state.className = "state";
  state.textContent = "preparing…";
  li.append(label, bar, state);
  li.dataset.name = name;
  $("#uploads").prepend(li);
  return { li, bar, state };
}

async function uploadFiles(files) {
  say("");
  await Promise.all(Array.from(files, (file) => uploadFile(file)));
}

async function uploadFile(file) {
  const name = app.folder + file.name;
  const ui = uploadRow(name);
  const setState = (text, kind) => {
    ui.state.textContent = text;
    ui.state.className = `state ${kind || ""}`;
  };
  try {
    setState("hashing…");
    const sha256 = await sha256Hex(file);
    const body = {
      name,
      size: file.size,
      content_type: file.type || "application/octet-stream",
    };
    if (sha256) body.sha256 = sha256;
    setState("starting…");
    const created = await api("POST", "/files", {
      body,
      // The same key makes a retried create return the same file.
      headers: { "Idempotency-Key": newKey() },
    });
    app.watching.set(created.file_id, {
      created: () => {
        setState("available", "good");
        refreshIfShown(name);
        showUsage().catch(fail);
      },
      rejected: () => setState("rejected by the service", "bad"),
    });
    if (created.upload) {
      await postForm(created.upload, file, (fraction) => (ui.bar.value = fraction));
    }
    ui.bar.value = 1;
    if (ui.state.textContent !== "available") setState("uploaded, checking…");
  } catch (error) {
    setState(explain(error), "bad");
    if (error.code === "SessionEnded") fail(error);
    if (error.code === "QuotaExceeded") showUsage().catch(fail);
  }
}

function postForm(form, file, onProgress) {
  // XMLHttpRequest, not fetch: only it reports upload progress.
  const data = new FormData();
  for (const [key, value] of Object.entries(form.fields)) data.append(key, value);
  data.append("file", file);
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", form.url);
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    });
    request.addEventListener("load", () => {
      if (request.status >= 200 && request.status < 300) resolve();
      else reject(s3Error(request));
    });
    request.addEventListener("error", () =>
      reject(new AppError("Unreachable", "The upload to storage failed.")),
    );
    request.send(data);
  });
}

function s3Error(request) {
  const text = request.responseText || "";
  const code = (text.match(/<Code>(.*?)<\/Code>/) || [])[1] || `HTTP${request.status}`;
  const message = (text.match(/<Message>(.*?)<\/Message>/) || [])[1] || "";
  return new AppError(code, `Storage refused the upload: ${message || code}.`);
}

function refreshIfShown(name) {
  if (app.view !== "files" || !name.startsWith(app.folder)) return;
  // Changes come in bursts (a dropped handful of files): list once after.
  clearTimeout(app.relistTimer);
  app.relistTimer = setTimeout(() => openFolder(app.folder).catch(fail), 200);
}

function setUpDrop() {
  const zone = $("#drop");
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    const items = Array.from(event.dataTransfer.items || []);
    // LIMITATION: a dropped folder is not walked; `fm put` uploads folders.
    if (items.some((item) => item.webkitGetAsEntry?.()?.isDirectory)) {
      say("Folders cannot be dropped here yet: drop the files, or use fm put.");
      return;
    }
    uploadFiles(event.dataTransfer.files).catch(fail);
  });
  $("#choose").addEventListener("change", (event) => {
    uploadFiles(event.target.files).catch(fail);
    event.target.value = "";
  });
}

// --- the change feed -----------------------------------------------------------------------

async function startFeed() {
  stopFeed();
  const latest = await api("GET", "/changes/latest");
  app.feedCursor = latest.cursor;
  app.feedTimer = setTimeout(pollFeed, FEED_INTERVAL_MS);
}

function stopFeed() {
  clearTimeout(app.feedTimer);
  app.feedTimer = null;
}

async function pollFeed() {
  if (!app.session) return;
  try {
    let page;
    do {
      page = await api("GET", "/changes", { query: { cursor: app.feedCursor } });
      for (const change of page.changes) onChange(change);
      app.feedCursor = page.cursor;
    } while (page.has_more);
  } catch (error) {
    if (error.code === "CursorExpired") {
      await startFeed().catch(fail);
      await showView(app.view).catch(fail);
      return;
    }
    if (error.code === "SessionEnded") return fail(error);
    console.warn("change feed", error);
  }
  if (app.session) app.feedTimer = setTimeout(pollFeed, FEED_INTERVAL_MS);
}

function describeChange(change) {
  const before = change.previous_name;
  if (change.type === "renamed" && before) return `renamed ${before} → ${change.name}`;
  if (change.type === "restored" && before && before !== change.name) {
    return `restored ${before} as ${change.name}`;
  }
  return `${change.type} ${change.name}`;
}

function onChange(change) {
  const li = document.createElement("li");
  li.textContent = `${new Date(change.time).toLocaleTimeString()} ${describeChange(change)}`;
  $("#activity").prepend(li);
  while ($("#activity").children.length > 20) $("#activity").lastChild.remove();
  const handlers = app.watching.get(change.file_id);
  if (handlers && handlers[change.type]) {
    app.watching.delete(change.file_id);
    handlers[change.type]();
    return;
  }
  if (["created", "deleted"].includes(change.type)) showUsage().catch(fail);
  if (app.view === "trash") {
    onTrashChange(change).catch(fail);
  } else if (change.type !== "rejected") {
    // Someone else's change (another tab, the CLI): show it if it is here.
    refreshIfShown(change.name);
    if (change.previous_name) refreshIfShown(change.previous_name);
  }
}

// --- formatting -----------------------------------------------------------------------------

function humanSize(bytes) {
  const units = ["bytes", "kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(1)} ${units[unit]}`;
}

// --- start ----------------------------------------------------------------------------------------

async function start() {
  $("#sign-in").addEventListener("submit", onSignIn);
  $("#sign-out").addEventListener("click", onSignOut);
  $("#more").addEventListener("click", () => loadPage(app.generation).catch(fail));
  $("#trash-more").addEventListener("click", () =>
    loadTrashPage(app.trashGeneration).catch(fail),
  );
  $("#show-files").addEventListener("click", () => showView("files").catch(fail));
  $("#show-trash").addEventListener("click", () => showView("trash").catch(fail));
  setUpDrop();
  app.config = await loadConfig();
  const saved = sessionStorage.getItem(SESSION_KEY);
  app.session = saved ? JSON.parse(saved) : null;
  if (app.session) await showBrowser();
  else showSignIn();
  document.body.dataset.ready = "true";
}

start().catch((error) => {
  fail(error);
  document.body.dataset.ready = "true";
});
