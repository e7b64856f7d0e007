// Package filter parses and evaluates Intune assignment filter rules
// (deviceAndAppManagementAssignmentFilter.rule), such as
//
//	(device.model -eq "Surface Pro 9") and (device.deviceName -startsWith "LAB-")
//
// The language is Intune's for Windows devices: the properties
// device.deviceName, device.manufacturer, device.model, device.osVersion,
// device.operatingSystemSKU, device.deviceOwnership,
// device.enrollmentProfileName and device.deviceCategory; the operators
// -eq -ne -startsWith -notStartsWith -endsWith -notEndsWith -contains
// -notContains -in -notIn (the last two take ["a", "b"]); and, or and
// parentheses, and binding tighter than or. Property names, operators,
// keywords and values compare case-insensitively, as Intune does.
//
// It does not know other platforms' properties, the -match/-notMatch
// regular expressions, or app-filter (managed app) properties; a rule
// using them does not parse. It reads no device: Eval takes the
// properties the agent reported.
package filter
