package service

import (
	"encoding/json"
	"strings"

	"github.com/imepipe/imepipe/imeapi"
)

// relatedOf returns the served apps that are not assigned to d but that
// an assigned app reaches through its relationships (dependencies and
// supersedences it names as child, recursively), each with the ids of the
// apps that name it. Such apps are sent as policies with
// IntentNotTargeted and DependencyOf, and their content is d's to fetch.
// A relationship to an app the service does not serve is skipped here
// (the agent reports it); cycles end where an app was already reached.
func (s *Server) relatedOf(d *device) map[*app][]string {
	var assigned []*app
	v := s.viewerOf(d)
	for _, a := range s.cat.apps {
		if intent, _ := intentFor(&a.graph, v); intent != imeapi.IntentNotTargeted {
			assigned = append(assigned, a)
		}
	}
	return s.reachedFrom(assigned)
}

// reachedFrom is relatedOf for the apps already found assigned to the
// device, for a caller that resolved their intents itself.
func (s *Server) reachedFrom(list []*app) map[*app][]string {
	assigned := make(map[*app]bool, len(list))
	for _, a := range list {
		assigned[a] = true
	}
	queue := append([]*app(nil), list...)
	out := map[*app][]string{}
	seen := map[*app]bool{}
	for len(queue) > 0 {
		a := queue[0]
		queue = queue[1:]
		if seen[a] {
			continue
		}
		seen[a] = true
		for _, r := range a.graph.Relationships {
			if strings.EqualFold(r.TargetType, imeapi.TargetParent) {
				continue
			}
			t := s.cat.app(r.TargetID)
			if t == nil || t == a {
				continue
			}
			if !assigned[t] {
				out[t] = appendUnique(out[t], a.graph.ID)
			}
			queue = append(queue, t)
		}
	}
	return out
}

func appendUnique(list []string, v string) []string {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}

// policyJSON encodes a's policy with p's intent, priority, schedule and
// DependencyOf (the precomputed encodings cover only intent and priority).
func (a *app) policyJSON(p imeapi.Policy) []byte {
	p.AppID, p.Version, p.ContentSize, p.App = a.graph.ID, a.graph.Version, a.blob.size, a.raw
	p.InstallScript, p.UninstallScript = a.install, a.uninstall
	b, err := json.Marshal(p)
	if err != nil {
		return []byte("null") // cannot happen: every field encodes
	}
	return b
}
