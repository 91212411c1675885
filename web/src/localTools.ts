/**
 * Tools for the local emulators only (the clock control). `npm start` and `npm test` build the web app
 * with `--mode emulators` (web/.env.emulators sets VITE_LOCAL_TOOLS); a production build (`npm run build`)
 * has it false, so Vite drops every branch and dynamic import guarded by it: the code is not in dist/.
 */
export const LOCAL_TOOLS = import.meta.env.VITE_LOCAL_TOOLS === 'true';
