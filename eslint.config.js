// ESLint with typescript-eslint's type-aware rules: they catch floating
// promises and misused async callbacks, the bugs that hurt a server most.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", "dist/", "src/generated/", "coverage/", "reports/", ".stryker-tmp/"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: { arguments: false } }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "@typescript-eslint/require-await": "off",
      "no-console": ["error", { allow: ["error", "warn"] }],
    },
  },
  {
    // Tests read JSON bodies loosely on purpose; command-line tools print to stdout.
    files: ["test/**/*.ts", "**/*.test.ts", "bench/**/*.ts"],
    rules: {
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-return": "off",
      "no-console": "off",
    },
  },
  { files: ["scripts/**/*.ts", "src/cli/**/*.ts", "src/dev.ts", "bench/**/*.ts"], rules: { "no-console": "off" } },
  { files: ["eslint.config.js"], ...tseslint.configs.disableTypeChecked },
);
