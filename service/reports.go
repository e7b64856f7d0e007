package service

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/imepipe/imepipe/imeapi"
)

func (s *Server) handleReports(w http.ResponseWriter, r *http.Request, d *device) {
	var req imeapi.ReportRequest
	if !s.decode(w, r, &req) {
		return
	}
	if len(req.Reports) == 0 || len(req.Reports) > maxReports {
		writeError(w, http.StatusBadRequest, "reports", "reports must hold 1 to %d reports", maxReports)
		return
	}
	now := s.cfg.Now().UTC()
	stored := make([]storedReport, 0, len(req.Reports))
	var rel map[*app][]string // relatedOf(d), once for every report
	for i, rep := range req.Reports {
		if field, msg := checkReport(rep, s.cat); field != "" {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("reports[%d].%s", i, field), "reports[%d].%s: %s", i, field, msg)
			return
		}
		a := s.cat.app(rep.AppID)
		if !s.targetsWith(a, d, &rel) {
			forbidUnassigned(w, fmt.Sprintf("reports[%d].appId", i), a)
			return
		}
		rep.AppID = a.graph.ID // stored under the catalog's spelling of the GUID
		stored = append(stored, storedReport{Report: rep, ReceivedAt: now})
	}
	if err := s.st.putReports(d.ID, stored); err != nil {
		s.cfg.Logf("internal error: %v", err)
		writeError(w, http.StatusInternalServerError, "", "internal error")
		return
	}
	s.metrics.report(stored)
	writeJSON(w, http.StatusOK, map[string]int{"accepted": len(stored)})
}

// checkReport returns the offending field of a report and why, or "".
func checkReport(r imeapi.Report, c *catalog) (string, string) {
	switch {
	case r.AppID == "":
		return "appId", "required"
	case c.app(r.AppID) == nil:
		return "appId", fmt.Sprintf("no app %q is served", r.AppID)
	case len(r.Version) > maxIDLen:
		return "version", "too long"
	case !r.EnforcementState.Valid():
		return "enforcementState", fmt.Sprintf("%d is not one of 1000, 2000, 3000, 4000, 5000, 6000", r.EnforcementState)
	case !r.ComplianceState.Valid():
		return "complianceState", fmt.Sprintf("%d is not 0 to 5", r.ComplianceState)
	case r.Attempts < 0 || r.Attempts > maxAttempts:
		return "attempts", fmt.Sprintf("must be 0 to %d", maxAttempts)
	case len(r.ErrorMessage) > maxErrMsgLen:
		return "errorMessage", fmt.Sprintf("longer than %d bytes", maxErrMsgLen)
	}
	if len(r.DOStatus) > 0 && !bytes.Equal(bytes.TrimSpace(r.DOStatus), []byte("null")) {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(r.DOStatus, &obj); err != nil {
			return "doStatus", "must be a JSON object"
		}
	}
	return "", ""
}

// handleStatus shows devices × apps. The admin token sees every device
// (or ?device=ID); a device token sees only its own device.
func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	want := r.URL.Query().Get("device")
	var devs []device
	if s.isAdmin(r) {
		all, err := s.st.devices()
		if err != nil {
			s.cfg.Logf("internal error: %v", err)
			writeError(w, http.StatusInternalServerError, "", "internal error")
			return
		}
		for _, d := range all {
			if want == "" || d.ID == want {
				devs = append(devs, d)
			}
		}
		if want != "" && len(devs) == 0 {
			writeError(w, http.StatusNotFound, "", "no such device")
			return
		}
	} else {
		d, err := s.deviceOf(r)
		if err != nil {
			s.cfg.Logf("internal error: %v", err)
			writeError(w, http.StatusInternalServerError, "", "internal error")
			return
		}
		if d == nil {
			unauthorized(w, "missing or unknown bearer token")
			return
		}
		if want != "" && want != d.ID {
			writeError(w, http.StatusForbidden, "", "a device may read only its own status")
			return
		}
		devs = []device{*d}
	}
	out := imeapi.Status{Devices: []imeapi.DeviceStatus{}}
	for _, d := range devs {
		ds, err := s.deviceStatus(d)
		if err != nil {
			s.cfg.Logf("internal error: %v", err)
			writeError(w, http.StatusInternalServerError, "", "internal error")
			return
		}
		out.Devices = append(out.Devices, ds)
	}
	writeJSON(w, http.StatusOK, out)
}

// lastSyncOf is when d last asked for its policies (through any serve
// process on the store), nil if never.
func lastSyncOf(d device) *time.Time {
	if d.Sync.At.IsZero() {
		return nil
	}
	t := d.Sync.At
	return &t
}

// deviceStatus is one device's row: every app assigned to it or reported by it.
func (s *Server) deviceStatus(d device) (imeapi.DeviceStatus, error) {
	reps, err := s.st.reports(d.ID)
	if err != nil {
		return imeapi.DeviceStatus{}, err
	}
	ds := imeapi.DeviceStatus{DeviceID: d.ID, DeviceName: d.Name, EnrolledAt: d.EnrolledAt, LastSyncAt: lastSyncOf(d), Apps: []imeapi.AppStatus{}}
	v := s.viewerOf(&d)
	for _, a := range s.cat.apps {
		intent, _ := intentFor(&a.graph, v)
		rep, ok := reps[a.graph.ID]
		if intent == imeapi.IntentNotTargeted && !ok {
			continue
		}
		as := imeapi.AppStatus{AppID: a.graph.ID, DisplayName: a.graph.DisplayName, Intent: intent}
		if ok {
			as.Report = &rep.Report
			at := rep.ReceivedAt
			as.ReportedAt = &at
			as.DOBytes = doBytes(rep.Report.DOStatus)
		}
		ds.Apps = append(ds.Apps, as)
	}
	return ds, nil
}

// doBytes picks the byte counters out of a DO status record.
func doBytes(raw json.RawMessage) map[string]int64 {
	var rec map[string]json.RawMessage
	if len(raw) == 0 || json.Unmarshal(raw, &rec) != nil {
		return nil
	}
	out := map[string]int64{}
	for k, v := range rec {
		if !strings.HasPrefix(k, "Bytes") && k != "TotalBytesDownloaded" && k != "FileSize" {
			continue
		}
		var n int64
		if json.Unmarshal(v, &n) == nil {
			out[k] = n
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// openBlob opens a cached blob for reading.
func openBlob(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("blob: %w", err)
	}
	return f, nil
}
