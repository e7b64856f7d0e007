// Package imelog is the agent's log vocabulary: every line the agent
// writes to IntuneManagementExtension.log and AgentExecutor.log is a
// Phrase of this package, worded as the Intune Management Extension words
// it, so that CMTrace users and the community's log analyzers (which key
// on the IME's exact phrases and on the poller's thread) read our log as
// they read the IME's.
//
// A Phrase has a stable ID, a CMTrace severity and a fmt format. Match
// maps a logged message back to its Phrase, so tests can compare a log
// line by line with an expected phrase sequence. The package holds words
// only: it decides nothing about when a line is logged, and it does not
// write files (package cmtrace does).
package imelog
