package console

import (
	"fmt"
	"html/template"
	"net/http"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/imepipe/imepipe/imeapi"
)

var funcs = template.FuncMap{
	"when": func(t *time.Time) string {
		if t == nil || t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05Z")
	},
	"bytes": func(n int64) string { return humanize.IBytes(uint64(max(n, 0))) },
	"pct":   func(f float64) string { return fmt.Sprintf("%.1f %%", f) },
	"f1":    func(f float64) string { return fmt.Sprintf("%.1f", f) },
	"stateNames": func() []string {
		return stateNames[:]
	},
}

// fleet reads the service's view, or answers 500 itself.
func (h *Handler) fleet(w http.ResponseWriter) ([]App, imeapi.Status, bool) {
	st, err := h.cfg.Data.Fleet()
	if err != nil {
		h.cfg.Logf("console: internal error: %v", err)
		h.fail(w, http.StatusInternalServerError, "Internal error.")
		return nil, st, false
	}
	return h.cfg.Data.Apps(), st, true
}

// appsBody is the apps page.
type appsBody struct {
	Rows    []appRow
	Devices int
}

func (h *Handler) appsPage(w http.ResponseWriter, r *http.Request) {
	apps, st, ok := h.fleet(w)
	if !ok {
		return
	}
	rows := appRows(apps, st, h.cfg.Now())
	h.render(w, http.StatusOK, "apps.html", page{Title: "Apps", Nav: "apps", Refresh: h.refresh(), Body: appsBody{Rows: rows, Devices: len(st.Devices)}})
}

// devicesBody is the devices page, the whole fleet or a filtered part.
type devicesBody struct {
	Filter filter
	What   string // what the filter selects, for the heading
	Device *imeapi.DeviceStatus
	Rows   []deviceRow
}

func (h *Handler) devicesPage(w http.ResponseWriter, r *http.Request) {
	apps, st, ok := h.fleet(w)
	if !ok {
		return
	}
	q := r.URL.Query()
	f := filter{AppID: q.Get("app"), State: q.Get("state")}
	what := "every device"
	if f.AppID != "" {
		what = "app " + f.AppID
		for _, a := range apps {
			if a.ID == f.AppID {
				what = a.DisplayName
			}
		}
	}
	if f.State != "" {
		what += ", state " + f.State
	}
	rows := deviceRows(apps, st, f, h.cfg.Now())
	h.render(w, http.StatusOK, "devices.html", page{Title: "Devices", Nav: "devices", Refresh: h.refresh(), Body: devicesBody{Filter: f, What: what, Rows: rows}})
}

func (h *Handler) devicePage(w http.ResponseWriter, r *http.Request) {
	apps, st, ok := h.fleet(w)
	if !ok {
		return
	}
	id := r.PathValue("id")
	for i := range st.Devices {
		if d := &st.Devices[i]; d.DeviceID == id {
			rows := deviceRows(apps, st, filter{DeviceID: id}, h.cfg.Now())
			h.render(w, http.StatusOK, "devices.html", page{Title: "Device " + d.DeviceName, Nav: "devices", Refresh: h.refresh(),
				Body: devicesBody{Filter: filter{DeviceID: id}, What: d.DeviceName, Device: d, Rows: rows}})
			return
		}
	}
	h.fail(w, http.StatusNotFound, "No such device.")
}

// deliveryBody is the delivery page.
type deliveryBody struct {
	Rows  []deliveryRow
	Chart chart
}

func (h *Handler) deliveryPage(w http.ResponseWriter, r *http.Request) {
	apps, st, ok := h.fleet(w)
	if !ok {
		return
	}
	rows := deliveryRows(apps, st)
	h.render(w, http.StatusOK, "delivery.html", page{Title: "Delivery", Nav: "delivery", Refresh: h.refresh(), Body: deliveryBody{Rows: rows, Chart: newChart(rows)}})
}
