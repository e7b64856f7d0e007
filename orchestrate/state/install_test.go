package state

import (
	"encoding/json"
	"testing"
	"time"
)

// A run record survives ResetApp (resetting an app must not forget a
// running installer), BeginInstall counts the start once in Attempts.Runs,
// and DeleteInstall forgets it.
func TestInstallRecords(t *testing.T) {
	s := open(t)
	if recs, err := s.Installs(); err != nil || len(recs) != 0 {
		t.Fatalf("fresh store: %v %v", recs, err)
	}
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	in := Install{User: DeviceUser, Key: "b_1", AppID: "b", Version: "1", Mode: "DetectInstall", Dir: "/r/IMECache/b_1",
		ResultPath: "/r/s/b_1.reap.json", Attempt: 2, Started: at, Deadline: at.Add(time.Hour), Policy: json.RawMessage(`{"appId":"b"}`)}
	if err := s.PutAttempts(DeviceUser, "b_1", Attempts{Count: 1}); err != nil {
		t.Fatal(err)
	}
	if err := s.BeginInstall(in); err != nil {
		t.Fatal(err)
	}
	in.ReaperPID, in.ReaperStart = 42, 4242
	if err := s.PutInstall(in); err != nil { // the reaper's id, added once it runs
		t.Fatal(err)
	}
	if err := s.PutInstall(Install{Key: "a_1", AppID: "a"}); err != nil {
		t.Fatal(err)
	}
	app, err := s.App(DeviceUser, "b_1")
	if err != nil || app.Attempts.Runs != 1 || app.Attempts.Count != 1 {
		t.Fatalf("attempts %+v %v, want 1 run and the count kept", app.Attempts, err)
	}
	if _, err := s.ResetApp("b"); err != nil {
		t.Fatal(err)
	}
	recs, err := s.Installs()
	if err != nil || len(recs) != 2 || recs[0].Key != "a_1" || recs[1].ReaperPID != 42 || recs[1].ReaperStart != 4242 ||
		!recs[1].Deadline.Equal(in.Deadline) || string(recs[1].Policy) != `{"appId":"b"}` {
		t.Fatalf("after ResetApp: %+v %v", recs, err)
	}
	if err := s.DeleteInstall("b_1"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteInstall("none"); err != nil {
		t.Fatal(err)
	}
	if recs, _ := s.Installs(); len(recs) != 1 || recs[0].Key != "a_1" {
		t.Fatalf("after delete: %+v", recs)
	}
}
