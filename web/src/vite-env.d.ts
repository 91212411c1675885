/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** 'true' in `--mode emulators` builds only (web/.env.emulators). */
  readonly VITE_LOCAL_TOOLS?: string;
}
