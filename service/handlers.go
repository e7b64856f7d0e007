package service

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/service/filter"
)

// Bounds on request fields.
const (
	maxNameLen   = 256
	maxGroups    = 256
	maxIDLen     = 128
	maxReports   = 1000
	maxErrMsgLen = 4096
	maxAttempts  = 1 << 20
)

// decode reads the body into v and answers 400/413 itself when it cannot.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	err := decodeBody(w, r, s.cfg.MaxBodyBytes, v)
	if err == nil {
		return true
	}
	var de *decodeError
	if errors.As(err, &de) {
		writeError(w, de.Status, de.Field, "%s", de.Msg)
	} else {
		writeError(w, http.StatusBadRequest, "", "%v", err)
	}
	return false
}

func (s *Server) handleEnroll(w http.ResponseWriter, r *http.Request) {
	var req imeapi.EnrollRequest
	if !s.decode(w, r, &req) {
		return
	}
	switch {
	case req.EnrollmentSecret == "":
		writeError(w, http.StatusBadRequest, "enrollmentSecret", "enrollmentSecret is required")
		return
	case strings.TrimSpace(req.DeviceName) == "":
		writeError(w, http.StatusBadRequest, "deviceName", "deviceName is required")
		return
	case len(req.DeviceName) > maxNameLen || !utf8.ValidString(req.DeviceName):
		writeError(w, http.StatusBadRequest, "deviceName", "deviceName must be UTF-8 of at most %d bytes", maxNameLen)
		return
	case len(req.Groups) > maxGroups:
		writeError(w, http.StatusBadRequest, "groups", "at most %d groups", maxGroups)
		return
	}
	for i, g := range req.Groups {
		if g == "" || len(g) > maxIDLen {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("groups[%d]", i), "group id must be 1 to %d bytes", maxIDLen)
			return
		}
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(req.EnrollmentSecret)))
	if subtle.ConstantTimeCompare(sum[:], s.secretHash[:]) != 1 {
		s.cfg.Logf("enrollment refused from %s: wrong enrollment secret", r.RemoteAddr)
		unauthorized(w, "enrollment secret does not match")
		return
	}
	props, field, msg := checkProperties(req.DeviceProperties)
	if msg != "" {
		writeError(w, http.StatusBadRequest, field, "%s", msg)
		return
	}
	pub, err := base64.StdEncoding.DecodeString(req.PublicKey)
	if err == nil {
		_, err = ecdh.X25519().NewPublicKey(pub)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "publicKey", "publicKey must be a base64 X25519 public key (32 bytes)")
		return
	}
	tok := make([]byte, 32)
	rand.Read(tok)
	token := base64.RawURLEncoding.EncodeToString(tok)
	th := sha256.Sum256([]byte(token))
	d := &device{ID: newGUID(), Name: req.DeviceName, PublicKey: pub, Groups: req.Groups, EnrolledAt: s.cfg.Now().UTC(), Properties: props}
	if err := s.st.addDevice(*d, th[:]); err != nil {
		s.cfg.Logf("internal error: %v", err)
		writeError(w, http.StatusInternalServerError, "", "internal error")
		return
	}
	s.devices.Store(th, d)
	s.metrics.enrollments.Inc()
	s.cfg.Logf("device enrolled: %s %q from %s", d.ID, d.Name, r.RemoteAddr)
	writeJSON(w, http.StatusOK, imeapi.EnrollResponse{DeviceID: d.ID, Token: token})
}

// handleSync is POST /api/v1/policies: the device reports its
// properties, then gets its policies as from GET.
func (s *Server) handleSync(w http.ResponseWriter, r *http.Request, d *device) {
	var req imeapi.SyncRequest
	if !s.decode(w, r, &req) {
		return
	}
	props, field, msg := checkProperties(req.DeviceProperties)
	if msg != "" {
		writeError(w, http.StatusBadRequest, field, "%s", msg)
		return
	}
	if props == nil {
		props = map[string]string{}
	}
	s.servePolicies(w, r, d, props)
}

// checkProperties validates reported device properties and returns them
// with canonical names; on failure, the field and message of the 400.
func checkProperties(in map[string]string) (map[string]string, string, string) {
	if in == nil {
		return nil, "", ""
	}
	out := make(map[string]string, len(in))
	for k, v := range in {
		name, ok := filter.CanonicalProperty(k)
		field := "deviceProperties." + k
		switch {
		case !ok:
			return nil, field, fmt.Sprintf("unknown device property %q; want one of %s", k, strings.Join(imeapi.DeviceProperties, ", "))
		case len(v) > imeapi.MaxPropertyLen || !utf8.ValidString(v):
			return nil, field, fmt.Sprintf("%s must be UTF-8 of at most %d bytes", k, imeapi.MaxPropertyLen)
		}
		if _, dup := out[name]; dup {
			return nil, field, fmt.Sprintf("%s given twice", name)
		}
		out[name] = v
	}
	return out, "", ""
}

// handlePolicies is GET /api/v1/policies: a sync that reports no
// properties (those of an earlier sync still apply).
func (s *Server) handlePolicies(w http.ResponseWriter, r *http.Request, d *device) {
	s.servePolicies(w, r, d, nil)
}

// servePolicies records the sync in the store (one write; props nil
// keeps the earlier ones) and answers d's policies as targeted with the
// sync state that write returns.
func (s *Server) servePolicies(w http.ResponseWriter, r *http.Request, d *device, props map[string]string) {
	st, err := s.st.putSync(d.ID, s.cfg.Now().UTC(), props)
	if err != nil {
		s.cfg.Logf("internal error: %v", err)
		writeError(w, http.StatusInternalServerError, "", "internal error")
		return
	}
	synced := *d
	synced.Sync = st
	d = &synced
	id, _ := json.Marshal(d.ID)
	var buf bytes.Buffer
	buf.WriteString(`{"deviceId":`)
	buf.Write(id)
	buf.WriteString(`,"policies":[`)
	// One pass resolves each app's assignments; the walk of
	// relationships starts from the assigned ones.
	type resolved struct {
		intent   imeapi.Intent
		settings *imeapi.AssignmentSettings
	}
	v := s.viewerOf(d)
	intents := make([]resolved, len(s.cat.apps))
	var assigned []*app
	for i, a := range s.cat.apps {
		intents[i].intent, intents[i].settings = intentFor(&a.graph, v)
		if intents[i].intent != imeapi.IntentNotTargeted {
			assigned = append(assigned, a)
		}
	}
	rel := s.reachedFrom(assigned)
	n := 0
	for i, a := range s.cat.apps {
		intent, settings := intents[i].intent, intents[i].settings
		var body []byte
		switch {
		case intent == imeapi.IntentNotTargeted && len(rel[a]) == 0:
			continue
		case intent == imeapi.IntentNotTargeted:
			body = a.policyJSON(imeapi.Policy{Intent: intent, DependencyOf: rel[a]})
		case settings != nil && (settings.InstallTimeSettings != nil || settings.Notifications != "" || settings.RestartSettings != nil):
			body = a.policyJSON(imeapi.Policy{Intent: intent, DeliveryOptimizationPriority: settings.DeliveryOptimizationPriority, InstallTimeSettings: settings.InstallTimeSettings,
				Notifications: settings.Notifications, RestartSettings: settings.RestartSettings})
		default:
			k := policyKey{intent: intent}
			if settings != nil {
				k.priority = settings.DeliveryOptimizationPriority
			}
			body = a.policies[k]
		}
		if n > 0 {
			buf.WriteByte(',')
		}
		buf.Write(body)
		n++
	}
	buf.WriteString("]}")
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}

// assigned returns the app with id and version if it is assigned to d.
func (s *Server) assigned(d *device, id, version string) *app {
	a := s.cat.app(id)
	if a == nil || a.graph.Version != version {
		return nil
	}
	if !s.targets(a, d) {
		return nil
	}
	return a
}

func (s *Server) handleContentInfo(w http.ResponseWriter, r *http.Request, d *device) {
	var req imeapi.ContentInfoRequest
	if !s.decode(w, r, &req) {
		return
	}
	switch {
	case req.AppID == "":
		writeError(w, http.StatusBadRequest, "appId", "appId is required")
		return
	case req.Version == "":
		writeError(w, http.StatusBadRequest, "version", "version is required")
		return
	}
	a := s.assigned(d, req.AppID, req.Version)
	if a == nil {
		writeError(w, http.StatusNotFound, "", "no app %q version %q is assigned to this device", req.AppID, req.Version)
		return
	}
	env, err := s.envelope(d, a)
	if err != nil {
		s.cfg.Logf("internal error: seal for device %s: %v", d.ID, err)
		writeError(w, http.StatusInternalServerError, "", "internal error")
		return
	}
	blobPath := "/blobs/" + a.blob.name
	q, exp := s.sig.sign(blobPath)
	loc := s.baseURL(r) + blobPath + "?" + q
	if s.cfg.BlobBaseURL != "" {
		loc = s.cfg.BlobBaseURL + "/" + a.blob.name
	}
	writeJSON(w, http.StatusOK, imeapi.ContentInfoResponse{
		ContentInfo: imeapi.ContentInfo{
			UploadLocation:         loc,
			ExpiresAt:              exp.UTC(),
			DoFileID:               a.blob.doFileID,
			Size:                   a.blob.size,
			SHA256:                 a.blob.sha256,
			UnencryptedContentSize: a.blob.plainSize,
			PieceSize:              a.blob.pieceSize,
			PieceHashesURL:         s.baseURL(r) + "/phf/" + a.blob.doFileID,
		},
		DecryptInfo: env,
	})
}

// maxSealed bounds the envelope cache; past it the cache starts afresh.
const maxSealed = 1 << 16

// envelope returns a's DecryptInfo sealed to d. Sealing costs two X25519
// operations, so the envelope of a device and app version is kept and
// returned again: it is the same secret for the same recipient.
func (s *Server) envelope(d *device, a *app) (imeapi.Envelope, error) {
	key := d.ID + "\x00" + a.blob.doFileID
	s.sealMu.Lock()
	env, ok := s.sealed[key]
	s.sealMu.Unlock()
	if ok {
		return env, nil
	}
	pub, err := ecdh.X25519().NewPublicKey(d.PublicKey)
	if err != nil {
		return env, fmt.Errorf("device key: %w", err)
	}
	if env, err = imeapi.SealDecryptInfo(pub, d.ID, a.keys); err != nil {
		return env, err
	}
	s.sealMu.Lock()
	if len(s.sealed) >= maxSealed {
		clear(s.sealed)
	}
	s.sealed[key] = env
	s.sealMu.Unlock()
	return env, nil
}

func (s *Server) handlePHF(w http.ResponseWriter, r *http.Request, d *device) {
	a := s.cat.appByDoFile(r.PathValue("id"))
	if a == nil {
		writeError(w, http.StatusNotFound, "", "no such DO file")
		return
	}
	if !s.targets(a, d) {
		forbidUnassigned(w, "", a)
		return
	}
	writeJSON(w, http.StatusOK, imeapi.PieceHashes{DoFileID: a.blob.doFileID, Size: a.blob.size, SHA256: a.blob.sha256,
		PieceSize: a.blob.pieceSize, Pieces: a.blob.pieces})
}

func (s *Server) handleBlob(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	a := s.cat.appByBlob(name)
	if a == nil {
		writeError(w, http.StatusNotFound, "", "no such blob")
		return
	}
	if err := s.sig.verify("/blobs/"+name, r.URL.Query()); err != nil {
		s.cfg.Logf("blob refused to %s: %v", r.RemoteAddr, err)
		writeError(w, http.StatusForbidden, "", "%v", err)
		return
	}
	f, err := openBlob(a.blob.path)
	if err != nil {
		s.cfg.Logf("internal error: %v", err)
		writeError(w, http.StatusInternalServerError, "", "internal error")
		return
	}
	defer f.Close()
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("ETag", `"`+a.blob.sha256[:32]+`"`)
	h.Set("Cache-Control", "private, no-transform")
	http.ServeContent(w, r, name, a.blob.modTime, f)
}

func (s *Server) handleArray(w http.ResponseWriter, r *http.Request, d *device) {
	var req imeapi.ArrayRequest
	if !s.decode(w, r, &req) {
		return
	}
	if req.DoFileID == "" {
		writeError(w, http.StatusBadRequest, "doFileId", "doFileId is required")
		return
	}
	a := s.cat.appByDoFile(req.DoFileID)
	if a == nil {
		writeError(w, http.StatusNotFound, "", "no such DO file")
		return
	}
	if !s.targets(a, d) {
		forbidUnassigned(w, "doFileId", a)
		return
	}
	if !req.DownloadMode.Valid() {
		writeError(w, http.StatusBadRequest, "downloadMode", "downloadMode %d is not 0, 1, 2, 3, 99 or 100", int(req.DownloadMode))
		return
	}
	for _, f := range []struct{ name, v string }{{"peerId", req.PeerID}, {"lanId", req.LanID}, {"groupId", req.GroupID}} {
		if len(f.v) > maxIDLen {
			writeError(w, http.StatusBadRequest, f.name, "%s is longer than %d bytes", f.name, maxIDLen)
			return
		}
	}
	if req.PeerID == "" {
		writeError(w, http.StatusBadRequest, "peerId", "peerId is required")
		return
	}
	if n := (len(a.blob.pieces) + 7) / 8; len(req.Pieces) > n {
		writeError(w, http.StatusBadRequest, "pieces", "pieces bitmap is %d bytes; the file has %d pieces (%d bytes)", len(req.Pieces), len(a.blob.pieces), n)
		return
	}
	if len(req.Want) > len(a.blob.pieces) {
		writeError(w, http.StatusBadRequest, "want", "want lists %d pieces; the file has %d", len(req.Want), len(a.blob.pieces))
		return
	}
	for _, i := range req.Want {
		if i < 0 || i >= len(a.blob.pieces) {
			writeError(w, http.StatusBadRequest, "want", "want: piece %d is not in 0..%d", i, len(a.blob.pieces)-1)
			return
		}
	}
	if len(req.Avoid) > maxPeers {
		writeError(w, http.StatusBadRequest, "avoid", "avoid lists %d peers; at most %d", len(req.Avoid), maxPeers)
		return
	}
	for _, id := range req.Avoid {
		if len(id) > maxIDLen {
			writeError(w, http.StatusBadRequest, "avoid", "avoid: a peer id is longer than %d bytes", maxIDLen)
			return
		}
	}
	if req.MaxOrigin < 0 || req.MaxOrigin > maxMaxOrigin {
		writeError(w, http.StatusBadRequest, "maxOrigin", "maxOrigin %d is not in 0..%d", req.MaxOrigin, maxMaxOrigin)
		return
	}
	reg := registration{fileID: a.blob.doFileID, deviceID: d.ID, peerID: req.PeerID, lanID: req.LanID,
		groupID: req.GroupID, mode: req.DownloadMode, complete: req.Complete,
		npieces: len(a.blob.pieces), want: req.Want, maxOrig: req.MaxOrigin, avoid: req.Avoid}
	if reg.lanID == "" {
		reg.lanID = lanOf(r.RemoteAddr)
	}
	if req.Addr != "" {
		addr, err := checkPeerAddr(req.Addr, r.RemoteAddr, s.selfAddrs(r))
		switch {
		case errors.Is(err, errPeerAddr):
			s.cfg.Logf("peer address refused to device %s from %s: %v", d.ID, r.RemoteAddr, err)
			writeError(w, http.StatusForbidden, "addr", "addr: %v", err)
			return
		case err != nil:
			writeError(w, http.StatusBadRequest, "addr", "addr: %v", err)
			return
		}
		reg.addr = addr
	}
	holds := req.Complete
	if !req.Complete {
		for _, b := range req.Pieces {
			holds = holds || b != 0
		}
		reg.pieces = req.Pieces
	}
	resp, err := s.arr.ask(reg, holds, req.MaxPeers)
	if err != nil {
		s.cfg.Logf("internal error: array: %v", err)
		writeError(w, http.StatusInternalServerError, "", "internal error")
		return
	}
	resp.DoFileID = a.blob.doFileID
	writeJSON(w, http.StatusOK, resp)
}

// newGUID returns a random (version 4) GUID.
func newGUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
