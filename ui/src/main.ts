import { mount } from "svelte";
import App from "./App.svelte";
import "./app.css";
import { recordStartupFrames } from "./lib/startupFrames";

const target = document.getElementById("app");
if (!target) throw new Error("index.html has no #app element");

recordStartupFrames();
const app = mount(App, { target });

export default app;
