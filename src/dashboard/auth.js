/**
 * The header's sign-in area: who the page calls the API as. Signing in with GitHub, where
 * the server offers it, is how people use the dashboard; the API token pasted here (kept
 * for this tab only) is the operators' way, and the only one where sign-in is not set up.
 */
import { api, ApiError, authState, optionalApi, setSession, setToken } from "./api.js";
import { h, put } from "./dom.js";

/** @typedef {import("./types.js").Session} Session */

/** Whether the token form is open even though sign-in is offered (an operator's choice). */
let tokenFormWanted = false;

/** Ask the server who is signed in; a server without sign-in (404) leaves the token as the only way. */
export async function loadSession() {
  /** @type {Session | null} */
  let session = null;
  try {
    const answer = await optionalApi("/auth/session");
    if (answer && typeof answer.sign_in_available === "boolean") session = answer;
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
  }
  setSession(session);
}

/**
 * Draw the sign-in area into `container` for the current state.
 * @param {HTMLElement} container
 */
export function renderAuth(container) {
  const { session, token, signedIn } = authState();
  if (signedIn && session?.user) {
    const login = session.user.login;
    put(
      container,
      h("span", { class: "user", title: `Signed in with GitHub as ${login}` }, h("span", { class: "avatar", "aria-hidden": "true" }, login.slice(0, 1).toUpperCase()), h("span", { class: "user-login" }, login)),
      h("button", { type: "button", class: "button small", onclick: () => void signOut(container) }, "Sign out"),
    );
    return;
  }
  const signIn = session?.sign_in_available
    ? h("a", { class: "button primary small", href: `/auth/github?return_to=${encodeURIComponent(location.pathname + location.hash)}` }, "Sign in with GitHub")
    : null;
  if (token && !tokenFormWanted) {
    put(
      container,
      signIn,
      h("span", { class: "token-set", title: "API calls use the pasted token (kept in this tab only)" }, "API token in use"),
      h("button", { type: "button", class: "button small", onclick: () => openTokenForm(container) }, "Change"),
      h("button", { type: "button", class: "button small", onclick: () => setToken("") }, "Forget"),
    );
    return;
  }
  if (signIn && !tokenFormWanted) {
    put(container, signIn, h("button", { type: "button", class: "button link small", onclick: () => openTokenForm(container) }, "Use an API token"));
    return;
  }
  put(container, signIn, tokenForm());
}

/** @param {HTMLElement} container */
function openTokenForm(container) {
  tokenFormWanted = true;
  renderAuth(container);
  container.querySelector("input")?.focus();
}

function tokenForm() {
  const input = /** @type {HTMLInputElement} */ (h("input", { id: "token", name: "token", type: "password", autocomplete: "off", spellcheck: "false", placeholder: "Paste the API token", required: true }));
  return h(
    "form",
    {
      class: "token-form",
      onsubmit: (event) => {
        event.preventDefault();
        tokenFormWanted = false;
        setToken(input.value);
      },
    },
    h("label", { class: "visually-hidden", for: "token" }, "API token"),
    input,
    h("button", { type: "submit", class: "button small" }, "Use token"),
  );
}

/** @param {HTMLElement} container */
async function signOut(container) {
  try {
    await api("/auth/logout", { method: "POST" });
  } catch (error) {
    // Signed out already (an expired session) is what was wanted.
    if (!(error instanceof ApiError) || error.status !== 401) {
      container.append(h("span", { class: "auth-error", role: "alert" }, error instanceof Error ? error.message : String(error)));
      return;
    }
  }
  await loadSession();
}
