// GraphQL Code Generator: the types of every operation in src/ from the
// checked-in schema. `npm run codegen` writes src/gql/ (not committed).
// FRONTDESK_SCHEMA points it at another schema file (the tests use a changed
// copy to prove an incompatible change fails the type check).
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: process.env.FRONTDESK_SCHEMA ?? '../../schema.graphql',
  documents: ['src/**/*.ts', '!src/gql/**/*'],
  ignoreNoDocuments: false,
  // Relative imports with ".js", as Node's ES modules want them.
  emitLegacyCommonJSImports: false,
  generates: {
    './src/gql/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        // Documents as strings: sent with fetch as they are, no graphql-js at run time.
        documentMode: 'string',
        // Enums as string unions: the JSON the server sends, nothing to import.
        enumsAsTypes: true,
        useTypeImports: true,
        strictScalars: true,
        scalars: {
          DateTime: 'string', // ISO 8601 with offset
          JSON: 'unknown',
        },
      },
    },
  },
};

export default config;
