/**
 * The development ULM's names (a leaf module: the compose model, backend/.env and the question
 * defaults read them without loading the kind).
 */
export const ULM_DEV_DIR = 'ulm-dev';
export const ULM_DEV_SERVICE = 'ovu-ulm-dev';
export const ULM_DEV_PORT = 8100;
export const ULM_DEV_COMPOSE_FILE = `${ULM_DEV_DIR}/compose.yaml`;
/** What an app in a workspace without ULM points at (from its container). */
export const ULM_DEV_URL = `http://${ULM_DEV_SERVICE}:${ULM_DEV_PORT}`;
/** The same server run on the machine (`node ulm-dev/server.mjs`), for backend/.env. */
export const ULM_DEV_LOCAL_URL = `http://127.0.0.1:${ULM_DEV_PORT}`;
/** ULM's address in production (the Kubernetes manifests), and the default where a workspace has one. */
export const ULM_DEFAULT_URL = 'http://ulm-backend:8000';
/** A seeded development token of users.json, for the request the next steps show. */
export const ULM_DEV_TOKEN = 'dev-token-ada';

/** Whether the app's ULM URL is the development ULM's. */
export function usesUlmDev(ulmUrl: string): boolean {
  try {
    return new URL(ulmUrl).hostname === ULM_DEV_SERVICE;
  } catch {
    return false;
  }
}

/** A compose service that looks like ULM (`ulm-backend`, `ulm`, `ovu_ulm`…), the development one aside. */
export function isUlmService(name: string): boolean {
  return name !== ULM_DEV_SERVICE && /(^|[-_])ulm([-_]|$)/i.test(name);
}
