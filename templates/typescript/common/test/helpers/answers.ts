/** The shapes of the app's answers, for `response.json<T>()` in tests. */
export interface Problem {
  code: string;
  detail: string;
}

export interface Invalid {
  code: 'validation_error';
  detail: { loc: (string | number)[]; msg: string; type: string }[];
}

export interface OpenApi {
  openapi: string;
  info: { title: string };
  paths: Record<string, unknown>;
}
