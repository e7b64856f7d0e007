package peer

import (
	"time"

	"github.com/imepipe/imepipe/fetch"
)

// DefaultMinBackgroundQos is DO's default DOMinBackgroundQos: 500 KB/s.
const DefaultMinBackgroundQos = 500 << 10

// DefaultQosWindow is how long a background download's rate is measured
// before DOMinBackgroundQos may send it to the origin.
const DefaultQosWindow = 5 * time.Second

// Policy is Delivery Optimization's back-to-source policy for one
// download, under DO's names. It decides when a device that could wait
// for a piece on the LAN takes it from the origin instead: a piece the
// Array assigned to this device is taken from the origin at once; any
// other piece that no peer has is waited for (on the device assigned to
// it, or for the Array to plan it) for the delay of the download's
// priority, and taken from the origin after that; a background download
// whose rate stays below MinBackgroundQos takes it at once.
type Policy struct {
	// Priority is the download's DO priority (fetch.Foreground or
	// fetch.Background); it picks the delay and whether the QoS floor
	// applies.
	Priority fetch.Priority
	// DelayBackgroundDownloadFromHttp and DelayForegroundDownloadFromHttp
	// are DO's DODelayBackgroundDownloadFromHttp and
	// DODelayForegroundDownloadFromHttp: how long a download that may use
	// peers waits for a piece no peer has before it takes it over HTTP.
	// DO's default, 0, means not set: the swarm's OwnerWait bounds the wait.
	DelayBackgroundDownloadFromHttp time.Duration
	DelayForegroundDownloadFromHttp time.Duration
	// MinBackgroundQos is DO's DOMinBackgroundQos in bytes per second
	// (DefaultMinBackgroundQos, DO's 500 KB/s): a background download
	// slower than this over QosWindow complements from HTTP. Negative: off.
	MinBackgroundQos int64
	// QosWindow is how long the rate is measured (DefaultQosWindow).
	QosWindow time.Duration
}

func (p *Policy) defaults() {
	if p.MinBackgroundQos == 0 {
		p.MinBackgroundQos = DefaultMinBackgroundQos
	}
	if p.QosWindow <= 0 {
		p.QosWindow = DefaultQosWindow
	}
}

// delay is how long a piece no peer has is waited for before the origin.
func (p *Policy) delay(ownerWait time.Duration) time.Duration {
	d := p.DelayForegroundDownloadFromHttp
	if p.Priority == fetch.Background {
		d = p.DelayBackgroundDownloadFromHttp
	}
	if d <= 0 {
		return ownerWait
	}
	return d
}
