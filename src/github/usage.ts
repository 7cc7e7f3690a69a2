/** The reply to `/agent help` and to a malformed command. */
export const USAGE = [
  "**Running Agent** turns a request into a pull request.",
  "",
  "| comment | what happens |",
  "|---|---|",
  "| `/agent <task>` | the agent works on the task and opens a pull request |",
  "| label the issue `agent` | the same, with the issue's title and body as the task |",
  "| `/agent help` | this message |",
  "",
  "Only people with write access to the repository can start the agent.",
].join("\n");
