// Package console is the admin's web console of the emulated service,
// served by `imepipe serve` under /console/: per app the devices
// installed, failed (with the error codes as Intune shows them and their
// meaning), not applicable, pending and in GRS; per device each app's
// state, last sync, last report, attempts and GRS window; and delivery,
// the bytes by Delivery Optimization source as server-side SVG charts.
// Devices that share a name, compared without regard to case as Windows
// does (a re-imaged PC enrolls again under its old name), are told apart
// on their rows by the start of their device id and when they enrolled.
//
// The admin token is entered once on /console/login (a form POSTing the
// field token) and exchanged for a random session id kept server-side
// and sent as an HttpOnly, SameSite=Strict cookie (Secure under TLS);
// the token is never put in a URL, a cookie or a log line. Pages are
// html/template (device names come from devices and are not trusted),
// static assets are embedded, and a small script refreshes the page's
// main part while agents report; the tables need no JavaScript.
//
// It reads the fleet only through Data and keeps its sessions (the
// SHA-256 of each id and its expiry) through Sessions, both of which the
// service implements on its store: a session started on one serve
// process is valid on every other on the same store, and survives a
// restart. Without Sessions they are kept in memory. It stores nothing
// itself.
package console
