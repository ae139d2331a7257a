/** The app's version (package.json), put in by the build. */
declare const __APP_VERSION__: string;

interface ImportMetaEnv {
  /** Map tiles: a Leaflet URL template; "" for none (the coverage map draws on a blank background). */
  readonly VITE_TILE_URL?: string;
  readonly VITE_TILE_ATTRIBUTION?: string;
}

interface ImportMeta {
  readonly env: ImportMetaEnv;
}
