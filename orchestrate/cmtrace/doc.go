// Package cmtrace writes and reads logs in the CMTrace format the Intune
// Management Extension uses (readable by CMTrace and OneTrace), one record
// per line:
//
//	<![LOG[message]LOG]!><time="HH:MM:SS.fffffff" date="M-D-YYYY" component="IntuneManagementExtension" context="" type="1" thread="N" file="">
//
// type is 1 (information), 2 (warning) or 3 (error). Writer appends records
// to a file and rotates it by size into <name>-YYYYMMDD-HHMMSS.log, keeping
// a bounded number of old files, as the IME does. Parse reads records back
// (a message may span lines).
//
// The package formats and rotates; it decides nothing about what is logged.
package cmtrace
