// ESLint with typescript-eslint's type-checked rules (recommended-type-checked) on every file the
// app has, its scripts and configs included: `npm run lint` reports nothing.
import eslint from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', 'src/generated/', 'coverage/'] },
  eslint.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    // tsc checks every name, in the scripts too (checkJs), knowing Node's globals.
    rules: { 'no-undef': 'off' },
  },
);
