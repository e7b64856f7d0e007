package imeapi

import (
	"encoding/json"
	"fmt"
	"time"
)

// Wire types of the service API. Names that the IME uses (ContentInfo,
// DecryptInfo, DoFileId) keep its PascalCase; the rest is camelCase.

// EnrollRequest is the body of POST /api/v1/enroll.
type EnrollRequest struct {
	DeviceName       string `json:"deviceName"`
	EnrollmentSecret string `json:"enrollmentSecret"`
	// PublicKey is the device's X25519 public key, base64 (32 bytes);
	// DecryptInfo is sealed to it.
	PublicKey string `json:"publicKey"`
	// Groups are the Entra group ids the device is a member of, for
	// groupAssignmentTarget and exclusionGroupAssignmentTarget.
	Groups []string `json:"groups,omitempty"`
	// DeviceProperties are what assignment filters look at (see
	// DeviceProperties); every sync reports them again (SyncRequest).
	DeviceProperties map[string]string `json:"deviceProperties,omitempty"`
}

// DeviceProperties names the device properties an agent reports, as
// assignment filter rules name them without "device.": deviceName,
// manufacturer, model, osVersion, operatingSystemSKU, deviceOwnership,
// enrollmentProfileName, deviceCategory. Values are at most
// MaxPropertyLen bytes of UTF-8.
var DeviceProperties = []string{
	"deviceName", "manufacturer", "model", "osVersion", "operatingSystemSKU",
	"deviceOwnership", "enrollmentProfileName", "deviceCategory",
}

// MaxPropertyLen bounds a device property's value.
const MaxPropertyLen = 256

// SyncRequest is the body of POST /api/v1/policies: a sync that reports
// the device's current properties. GET /api/v1/policies is the same sync
// without a report; the last properties reported (or those of the
// enrollment) stay in force.
type SyncRequest struct {
	DeviceProperties map[string]string `json:"deviceProperties"`
}

// EnrollResponse is the answer to an enrollment.
type EnrollResponse struct {
	DeviceID string `json:"deviceId"`
	// Token is the bearer token for every later call; the service keeps
	// only its SHA-256.
	Token string `json:"token"`
}

// Policy is one app assigned to the device.
type Policy struct {
	AppID   string `json:"appId"`
	Version string `json:"version"`
	// Intent is the IME's: available, required or uninstall.
	Intent Intent `json:"intent"`
	// DeliveryOptimizationPriority from the winning assignment's settings:
	// "foreground" or "notConfigured" (background).
	DeliveryOptimizationPriority string `json:"deliveryOptimizationPriority,omitempty"`
	// ContentSize is the blob's size in bytes.
	ContentSize int64 `json:"contentSize"`
	// InstallTimeSettings is the winning assignment's schedule (nil:
	// none): the agent does not attempt a required app before its start
	// and enforces it from its deadline (InstallTimeSettings.Schedule).
	InstallTimeSettings *InstallTimeSettings `json:"installTimeSettings,omitempty"`
	// Notifications and RestartSettings are the winning assignment's
	// (showAll when empty; nil: none). The agent has no toasts and does
	// not restart the device: it records both in its state and logs them
	// with the restart a return code or deviceRestartBehavior asks for.
	Notifications   string           `json:"notifications,omitempty"`
	RestartSettings *RestartSettings `json:"restartSettings,omitempty"`
	// InstallScript and UninstallScript are the scripts the app's
	// activeInstallScript and activeUninstallScript name (nil: none, or
	// not found): the agent runs the script instead of the install or
	// uninstall command line (imeapi/script.go).
	InstallScript   *AppScript `json:"installScript,omitempty"`
	UninstallScript *AppScript `json:"uninstallScript,omitempty"`
	// DependencyOf, for a policy with IntentNotTargeted, lists the
	// assigned apps that depend on this one or supersede it (their
	// relationships name it): the service serves it, and its content, for
	// them only; the agent processes it only as their dependency or
	// superseded app.
	DependencyOf []string `json:"dependencyOf,omitempty"`
	// App is the Graph object from app.json as loaded, unknown fields
	// included, assignments removed; Win32LobApp decodes it.
	App json.RawMessage `json:"app"`
}

// Win32LobApp decodes the policy's Graph object.
func (p Policy) Win32LobApp() (Win32LobApp, error) {
	var g Win32LobApp
	if err := json.Unmarshal(p.App, &g); err != nil {
		return g, fmt.Errorf("imeapi: policy %s: %w", p.AppID, err)
	}
	return g, nil
}

// Policies is the answer to GET /api/v1/policies.
type Policies struct {
	DeviceID string   `json:"deviceId"`
	Policies []Policy `json:"policies"`
}

// ContentInfoRequest is the body of POST /api/v1/contentinfo.
type ContentInfoRequest struct {
	AppID   string `json:"appId"`
	Version string `json:"version"`
}

// ContentInfo says where and how to get an app's encrypted content.
type ContentInfo struct {
	// UploadLocation is the blob URL, signed and expiring at ExpiresAt.
	UploadLocation string    `json:"UploadLocation"`
	ExpiresAt      time.Time `json:"ExpiresAt"`
	// DoFileId names the content for Delivery Optimization:
	// "intunewin-bin_<appId>_<version>", as the IME names it.
	DoFileID string `json:"DoFileId"`
	// Size is the blob's length; SHA256 its hex digest.
	Size                   int64  `json:"Size"`
	SHA256                 string `json:"SHA256"`
	UnencryptedContentSize int64  `json:"UnencryptedContentSize"`
	// PieceSize and PieceHashesURL locate the piece hash file (PieceHashes).
	PieceSize      int64  `json:"PieceSize"`
	PieceHashesURL string `json:"PieceHashesUrl"`
}

// DoFileID is the DO file id of an app version, in the IME's form
// ("intunewin-bin_<appId>_<version>"), as ContentInfo.DoFileID carries it.
func DoFileID(appID, version string) string { return "intunewin-bin_" + appID + "_" + version }

// ContentInfoResponse is the answer to POST /api/v1/contentinfo.
type ContentInfoResponse struct {
	ContentInfo ContentInfo `json:"ContentInfo"`
	// DecryptInfo is sealed to the device key; OpenDecryptInfo opens it.
	DecryptInfo Envelope `json:"DecryptInfo"`
}

// Envelope is a DecryptInfo sealed to a device's X25519 key: ephemeral
// X25519, HKDF-SHA256, AES-256-GCM with the device id as associated data.
type Envelope struct {
	Alg        string `json:"alg"`   // EnvelopeAlg
	Ephemeral  string `json:"epk"`   // base64 ephemeral public key
	Nonce      string `json:"nonce"` // base64, 12 bytes
	Ciphertext string `json:"ct"`    // base64 AES-GCM ciphertext and tag
}

// DecryptInfo is the key material of one package, base64 as in
// Detection.xml, with the IME's names. It never appears in the clear on
// the wire or in logs; String redacts it.
type DecryptInfo struct {
	EncryptionKey       string `json:"EncryptionKey"`
	MacKey              string `json:"MacKey"`
	IV                  string `json:"IV"`
	Mac                 string `json:"Mac"`
	ProfileIdentifier   string `json:"ProfileIdentifier"`
	FileDigest          string `json:"FileDigest"`
	FileDigestAlgorithm string `json:"FileDigestAlgorithm"`
}

// PieceHashes is the piece hash file served at /phf/{DoFileId}.
type PieceHashes struct {
	DoFileID  string   `json:"doFileId"`
	Size      int64    `json:"size"`
	SHA256    string   `json:"sha256"`
	PieceSize int64    `json:"pieceSize"`
	Pieces    []string `json:"pieces"` // hex SHA-256 of each piece; the last may be short
}

// Peer types, as DO telemetry counts bytes.
const (
	PeerLAN      = "LAN"
	PeerGroup    = "Group"
	PeerInternet = "Internet"
)

// ArrayRequest is the body of POST /do/v1/array: register what this peer
// holds of a file (when Addr is set and it holds something) and ask for peers.
type ArrayRequest struct {
	DoFileID string `json:"doFileId"`
	// PeerID names this peer, unique per device.
	PeerID string `json:"peerId"`
	// Addr is IP:port of the peer's piece server; an empty host means
	// the address the request came from. It must be an address the device
	// could have (checkPeerAddr): its source IP or its /24 (/64), loopback
	// only from loopback, never link-local, multicast or the service's.
	Addr string `json:"addr,omitempty"`
	// LanID overrides the LAN id, which is otherwise the request's source
	// address /24 (IPv4) or /64 (IPv6): tests on one host use it.
	LanID   string `json:"lanId,omitempty"`
	GroupID string `json:"groupId,omitempty"`
	// DownloadMode: 0, 99 and 100 neither register nor get peers.
	DownloadMode DownloadMode `json:"downloadMode"`
	// Complete, or Pieces: a bitmap (bit i of byte i/8, most significant
	// first) of the pieces held; base64 in JSON.
	Complete bool   `json:"complete,omitempty"`
	Pieces   []byte `json:"pieces,omitempty"`
	// MaxPeers caps the answer (default and ceiling 64).
	MaxPeers int `json:"maxPeers,omitempty"`
	// Want lists the pieces this peer needs now and knows no holder of
	// (coordinated back-to-source): the Array assigns each to one device
	// of the LAN (or group) to take from the origin, or says who already
	// has it assigned (ArrayResponse.Origin, Fetching).
	Want []int `json:"want,omitempty"`
	// MaxOrigin is the most pieces this peer takes from the origin at
	// once (its connections; 0: the Array's default, 4).
	MaxOrigin int `json:"maxOrigin,omitempty"`
	// Avoid names the peers this peer banned for sending bad pieces: the
	// Array assigns them no more origin pieces in its LAN (or group) and
	// gives theirs to others.
	Avoid []string `json:"avoid,omitempty"`
}

// PieceFetch is a piece another device was assigned to take from the
// origin: wait for it there (GET …/piece/i?wait=ms) rather than fetch it.
type PieceFetch struct {
	Piece  int    `json:"piece"`
	PeerID string `json:"peerId"`
	Addr   string `json:"addr"`
	Type   string `json:"type"` // PeerLAN, PeerGroup or PeerInternet
}

// Peer is one peer returned by the Array.
type Peer struct {
	PeerID   string `json:"peerId"`
	Addr     string `json:"addr"`
	Type     string `json:"type"` // PeerLAN, PeerGroup or PeerInternet
	Complete bool   `json:"complete,omitempty"`
	Pieces   []byte `json:"pieces,omitempty"`
}

// ArrayResponse is the answer to POST /do/v1/array.
type ArrayResponse struct {
	DoFileID string `json:"doFileId"`
	LanID    string `json:"lanId"` // the LAN id the service used
	// Registered says whether this peer is now listed; it stays so for
	// TTLSeconds unless it registers again.
	Registered bool   `json:"registered"`
	TTLSeconds int64  `json:"ttlSeconds"`
	Peers      []Peer `json:"peers"`
	// Coordinated says the Array assigns back-to-source pieces: Origin
	// are this device's to take from the origin now, Fetching those other
	// devices of its LAN (or group) are taking. An Array without it leaves
	// the choice to the peers.
	Coordinated bool         `json:"coordinated,omitempty"`
	Origin      []int        `json:"origin,omitempty"`
	Fetching    []PieceFetch `json:"fetching,omitempty"`
}

// ArrayLeaveResponse is the answer to DELETE /do/v1/array, which removes
// every registration of the calling device (its peer stops serving).
type ArrayLeaveResponse struct {
	Removed int `json:"removed"` // registrations removed (one per file)
}

// Report is the result of one app on one device, as the IME reports it.
type Report struct {
	AppID            string           `json:"appId"`
	Version          string           `json:"version"`
	EnforcementState EnforcementState `json:"enforcementState"`
	ComplianceState  ComplianceState  `json:"complianceState"`
	ErrorCode        int64            `json:"errorCode"`
	ErrorMessage     string           `json:"errorMessage,omitempty"`
	// DOStatus is the DO telemetry record of the download, with
	// Get-DeliveryOptimizationStatus field names (a JSON object).
	DOStatus json.RawMessage `json:"doStatus,omitempty"`
	// Attempts is the count of failed attempts of this revision since its
	// last success or GRS expiry (0: none, or an agent that does not say).
	Attempts int `json:"attempts,omitempty"`
	// GRSUntil is when the app's Global Re-evaluation Scheme window ends,
	// when the agent put it in GRS; nil otherwise.
	GRSUntil *time.Time `json:"grsUntil,omitempty"`
}

// ReportRequest is the body of POST /api/v1/reports.
type ReportRequest struct {
	Reports []Report `json:"reports"`
}

// Status is the answer to GET /api/v1/status: a device sees its own row,
// the admin token sees every device.
type Status struct {
	Devices []DeviceStatus `json:"devices"`
}

// DeviceStatus is one device and its apps.
type DeviceStatus struct {
	DeviceID   string    `json:"deviceId"`
	DeviceName string    `json:"deviceName"`
	EnrolledAt time.Time `json:"enrolledAt"`
	// LastSyncAt is the device's last policy request, answered by any
	// service process on the store (nil: none since it enrolled).
	LastSyncAt *time.Time  `json:"lastSyncAt,omitempty"`
	Apps       []AppStatus `json:"apps"`
}

// AppStatus is one app on one device: its intent and last report.
type AppStatus struct {
	AppID       string `json:"appId"`
	DisplayName string `json:"displayName,omitempty"`
	Intent      Intent `json:"intent"`
	// Report is the last one received (nil: none yet); ReportedAt when.
	Report     *Report    `json:"report,omitempty"`
	ReportedAt *time.Time `json:"reportedAt,omitempty"`
	// DOBytes are the Bytes* and TotalBytesDownloaded counters of the
	// report's DO status record.
	DOBytes map[string]int64 `json:"doBytes,omitempty"`
}

// ErrorBody is the JSON of every error answer.
type ErrorBody struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}
