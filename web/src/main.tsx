import { render } from "preact";
import "uplot/dist/uPlot.min.css";
import "../console.css";
import { App } from "./app.js";

const root = document.getElementById("app");
if (root) {
  root.textContent = "";
  render(<App />, root);
}
