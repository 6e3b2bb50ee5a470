// Stylesheets are imported for esbuild to bundle into the console's one stylesheet.
declare module "*.css";
