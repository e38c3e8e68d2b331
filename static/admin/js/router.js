// A tiny client-side router over the History API. Routes are path patterns
// ("/admin/o/:org/users/:id"); same-origin links under /admin/ are handled here.

const routes = [];
let onRoute = () => {};

export function route(pattern, handler, options = {}) {
  const names = [];
  const source = pattern.replace(/:(\w+)/g, (_, name) => {
    names.push(name);
    return "([^/]+)";
  });
  routes.push({ regex: new RegExp(`^${source}/?$`), names, handler, options });
}

export function match(pathname) {
  for (const r of routes) {
    const found = r.regex.exec(pathname);
    if (found) {
      const params = Object.fromEntries(r.names.map((n, i) => [n, decodeURIComponent(found[i + 1])]));
      return { ...r, params };
    }
  }
  return null;
}

export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  return onRoute(window.location);
}

/** Re-render the current route (after a change that affects the whole page). */
export function reload() {
  return onRoute(window.location);
}

export function start(handler) {
  onRoute = handler;
  window.addEventListener("popstate", () => onRoute(window.location));
  document.addEventListener("click", (event) => {
    const a = event.target.closest("a[href]");
    if (!a || a.target || a.hasAttribute("download") || event.defaultPrevented) return;
    if (a.getAttribute("href").startsWith("#")) return; // in-page links (the skip link)
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const url = new URL(a.href, window.location.href);
    if (url.origin !== window.location.origin || !url.pathname.startsWith("/admin/")) return;
    event.preventDefault();
    navigate(url.pathname + url.search + url.hash);
  });
  return onRoute(window.location);
}
