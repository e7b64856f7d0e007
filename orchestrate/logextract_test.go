package orchestrate

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/imeapi"
)

// The community's ways into IntuneManagementExtension.log, written from
// what their documentation and code say they do (not their code):
//   - CMTrace/OneTrace and the analyzers split the text into records with
//     the CMTrace grammar: <![LOG[message]LOG]!><time="…" date="…"
//     component="…" context="…" type="…" thread="…" file="…">;
//   - policy scripts take the line that starts with "<![LOG[Get policies = "
//     and parse the rest of it, up to "]LOG]!>", as a JSON array;
//   - content-info scripts find the line "<![LOG[Response from Intune = {",
//     wrap the NEXT line in braces and parse it as JSON: ResponseContentType
//     GetContentInfo, ResponsePayload a JSON string with ContentInfo (a JSON
//     string: UploadLocation, DoFileId, …) and DecryptInfo.
var (
	cmtraceRecordRE = regexp.MustCompile(`(?s)<!\[LOG\[(.*?)\]LOG\]!><time="(\d{2}:\d{2}:\d{2}\.\d{7})" date="(\d{1,2}-\d{1,2}-\d{4})" component="([^"]*)" context="([^"]*)" type="([123])" thread="(\d+)" file="([^"]*)">`)
	policiesLineRE  = regexp.MustCompile(`^<!\[LOG\[Get policies = (.*)\]LOG\]!>`)
	responseLineRE  = regexp.MustCompile(`^<!\[LOG\[Response from Intune = \{`)
)

// TestLogExtraction: our log read the community's way gives back what the
// service served: the policy JSON round-trips to the served policies, and
// the GetContentInfo reply carries UploadLocation (signature redacted)
// and DoFileId, with the DecryptInfo still sealed (it opens only with
// the device key; no key is anywhere in the log).
func TestLogExtraction(t *testing.T) {
	app := fileApp("extract", "required")
	h := newHarness(t, []testApp{app}, nil)
	h.sync()
	h.wantState(app.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
	data, err := os.ReadFile(h.agent.LogPath())
	must(t, err)
	text := string(data)

	// 1. The CMTrace grammar covers the whole file: nothing outside records.
	rest := strings.TrimSpace(cmtraceRecordRE.ReplaceAllString(text, ""))
	n := len(cmtraceRecordRE.FindAllString(text, -1))
	if rest != "" || n < 50 {
		t.Fatalf("%d records; text outside the CMTrace grammar: %q", n, rest[:min(len(rest), 200)])
	}

	ctx := context.Background()
	served, err := h.agent.client.Policies(ctx)
	must(t, err)
	ci, err := h.agent.client.ContentInfo(ctx, app.id(), "1")
	must(t, err)
	keys, err := h.agent.client.OpenDecryptInfo(h.agent.priv, ci.DecryptInfo)
	must(t, err)

	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	var policies, replies int
	for i, line := range lines {
		// 2. Get policies = [...] on one line, as served.
		if m := policiesLineRE.FindStringSubmatch(line); m != nil {
			policies++
			var got, want any
			must(t, json.Unmarshal([]byte(m[1]), &got))
			b, _ := json.Marshal(served.Policies)
			must(t, json.Unmarshal(b, &want))
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("logged policies\n%s\ndo not round-trip to the served\n%s", m[1], b)
			}
			var typed []imeapi.Policy
			if err := json.Unmarshal([]byte(m[1]), &typed); err != nil || len(typed) != 1 || typed[0].AppID != app.id() {
				t.Fatalf("policies as imeapi.Policy: %+v %v", typed, err)
			}
		}
		// 3. Response from Intune = { then the reply's members on the next line.
		if responseLineRE.MatchString(line) {
			replies++
			if i+1 >= len(lines) {
				t.Fatal("Response from Intune = { is the last line")
			}
			var reply struct {
				ResponseContentType string
				ResponsePayload     string
			}
			must(t, json.Unmarshal([]byte("{"+strings.TrimSpace(lines[i+1])+"}"), &reply))
			if reply.ResponseContentType != "GetContentInfo" {
				t.Fatalf("ResponseContentType %q", reply.ResponseContentType)
			}
			var payload struct{ ApplicationId, ContentInfo, DecryptInfo string }
			must(t, json.Unmarshal([]byte(reply.ResponsePayload), &payload))
			var info imeapi.ContentInfo
			must(t, json.Unmarshal([]byte(payload.ContentInfo), &info))
			if payload.ApplicationId != app.id() || info.UploadLocation == "" || info.DoFileID != imeapi.DoFileID(app.id(), "1") || info.Size != ci.ContentInfo.Size {
				t.Fatalf("payload %+v, content info %+v", payload, info)
			}
			u, err := url.Parse(info.UploadLocation)
			if err != nil || u.Path != mustURL(t, ci.ContentInfo.UploadLocation).Path {
				t.Fatalf("UploadLocation %q is not the served blob %q", info.UploadLocation, fetch.RedactURL(ci.ContentInfo.UploadLocation))
			}
			if sig := u.Query().Get("sig"); sig != "" && sig != fetch.Redacted {
				t.Fatalf("UploadLocation carries its signature: %q", info.UploadLocation)
			}
			var env imeapi.Envelope
			must(t, json.Unmarshal([]byte(payload.DecryptInfo), &env))
			if _, err := h.agent.client.OpenDecryptInfo(h.agent.priv, env); err != nil || env.Alg != imeapi.EnvelopeAlg {
				t.Fatalf("logged DecryptInfo is not the sealed envelope: %+v %v", env, err)
			}
		}
	}
	if policies == 0 || replies != 1 {
		t.Fatalf("%d Get policies lines, %d GetContentInfo replies; want some and 1", policies, replies)
	}
	// 4. Secrets: no key, and no blob signature, anywhere in the log.
	if sig := mustURL(t, ci.ContentInfo.UploadLocation).Query().Get("sig"); sig == "" || strings.Contains(text, sig) {
		t.Fatalf("signature %q (empty, or in the log)", sig)
	}
	for name, secret := range map[string]string{"EncryptionKey": keys.EncryptionKey, "MacKey": keys.MacKey, "IV": keys.IV} {
		if secret == "" || strings.Contains(text, secret) {
			t.Fatalf("%s %q is empty or in the log", name, secret)
		}
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
