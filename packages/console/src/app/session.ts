// The sign-in token lives in sessionStorage: gone when the tab closes, never sent anywhere but the API.
const KEY = "havip.token";

export function savedToken(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null; // storage disabled: sign in again on every load
  }
}

export function saveToken(token: string | null): void {
  try {
    if (token === null) sessionStorage.removeItem(KEY);
    else sessionStorage.setItem(KEY, token);
  } catch {
    // storage disabled: the session lasts as long as the page
  }
}
