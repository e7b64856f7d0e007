// Package consoletest holds the browser test of the service's console:
// a fleet of agents (orchestrate) reports to a service and headless
// Chromium (chromedp) reads the console's pages. It sits apart from both
// sides because it links the agent and the service, which neither may
// do; it has no API.
package consoletest
