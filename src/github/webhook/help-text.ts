/** The reply to `/agent help` and to a malformed command. */
export const USAGE = [
  "**Running Agent** turns a request into a pull request.",
  "",
  "| comment | what happens |",
  "|---|---|",
  "| `/agent <task>` on an issue | the agent works on the task and opens a pull request |",
  "| label the issue `agent` | the same, from the issue as it stands (its description, comments, references and images) |",
  "| `/agent <feedback>` on a pull request | the agent works on the feedback and pushes new commits to the pull request's branch |",
  "| `/agent <feedback>` in a review comment on a line, or in a review's summary | the same, with the file, the lines and the diff of each review comment; the agent replies in each review thread |",
  "| `/agent run <pipeline> [key=value …]` | runs a pipeline declared under `pipelines:` in `.github/agent.yml`: its steps as jobs in order, in parallel where they can, then one pull request |",
  "| `/agent cancel` | stops this thread's running and queued jobs, and its pipeline runs |",
  "| `/agent retry` | runs this thread's last failed job again, from where it stopped (the check run's **Retry** button does the same) |",
  "| `/agent help` | this message |",
  "",
  "One job runs at a time per issue or pull request; a new request waits for the one before it.",
  "Only people with write access to the repository can start the agent. On an issue it reads every comment, marked by whether its author has write access (an operator may leave out the others'); on a pull request, only comments by people with write access.",
].join("\n");
