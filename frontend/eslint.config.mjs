// Lint of the UI: typescript-eslint's recommended rules with type information (floating and
// misused promises, unsafe `any`, needless assertions) and React's hooks rules, including the
// compiler-era ones (no ref reads or writes during render, no setState in an effect body, pure
// render functions).
import js from "@eslint/js";
import reactHooks from "eslint-plugin-react-hooks";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  // Generated from the services' OpenAPI documents (`npm run api-types`), not written here.
  { ignores: [".next/**", "node_modules/**", "next-env.d.ts", "**/*.gen.ts"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  reactHooks.configs.flat["recommended-latest"],
  {
    languageOptions: {
      globals: { ...globals.browser, ...globals.node },
      parserOptions: {
        // vitest.config.mts is not in tsconfig.json's include; it is checked on its own.
        projectService: { allowDefaultProject: ["vitest.config.mts"] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      "react-hooks/exhaustive-deps": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
    },
  },
  // Plain JavaScript configuration files are outside the TypeScript project.
  { files: ["**/*.mjs", "**/*.js"], ...tseslint.configs.disableTypeChecked },
);
