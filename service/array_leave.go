package service

import (
	"net/http"

	"github.com/imepipe/imepipe/imeapi"
)

// leave removes every registration of deviceID (all files), as a peer
// that stops serving asks; it returns how many were removed.
func (a *array) leave(deviceID string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for id, f := range a.files {
		if _, ok := f.regs[deviceID]; ok {
			delete(f.regs, deviceID)
			n++
		}
		if len(f.regs) == 0 {
			delete(a.files, id)
		}
	}
	return n
}

func (a *array) leaveAll(deviceID string) (int, error) { return a.leave(deviceID), nil }

// handleArrayLeave serves DELETE /do/v1/array: the device's peer stops
// serving (an agent that exits), so no other peer is sent to it.
func (s *Server) handleArrayLeave(w http.ResponseWriter, _ *http.Request, d *device) {
	n, err := s.arr.leaveAll(d.ID)
	if err != nil {
		s.cfg.Logf("internal error: array leave: %v", err)
		writeError(w, http.StatusInternalServerError, "", "internal error")
		return
	}
	writeJSON(w, http.StatusOK, imeapi.ArrayLeaveResponse{Removed: n})
}
