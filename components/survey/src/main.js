// The staff preview's entry point ("Xem màn hình khảo sát", a Streamlit component, ui.survey_component):
// the survey of survey.js in the component's element. ui.py joins src/*.js into the one script the
// component runs; this module comes last and its default export is the component's entry point.

import { render } from "./survey.js";

export default function (component) {
  render(component);
}
