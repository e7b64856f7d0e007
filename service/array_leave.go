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
	for id, regs := range a.files {
		if _, ok := regs[deviceID]; ok {
			delete(regs, deviceID)
			n++
		}
		if len(regs) == 0 {
			delete(a.files, id)
		}
	}
	return n
}

// handleArrayLeave serves DELETE /do/v1/array: the device's peer stops
// serving (an agent that exits), so no other peer is sent to it.
func (s *Server) handleArrayLeave(w http.ResponseWriter, _ *http.Request, d *device) {
	writeJSON(w, http.StatusOK, imeapi.ArrayLeaveResponse{Removed: s.arr.leave(d.ID)})
}
