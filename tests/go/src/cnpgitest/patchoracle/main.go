// cnpgi-go-patch-oracle: the kit's RFC 6902 application (what
// cnpgi::testing's PluginClient and the checker do with a plugin's patch)
// against evanphx/json-patch v5, the library the operator applies patches
// with (SEMANTICS 3.2): on every case of a corpus both must accept or both
// refuse, and accepted patches must give the same document.
//
//	cnpgi-go-patch-oracle CORPUS.json KIT_HELPER
//
// KIT_HELPER is tests/testing's apply_json_patches, run on the same corpus.
// It also checks the Go facts the kit's SetStatusInCluster relies on: the
// operator unmarshals json_status into a map (SEMANTICS 3.1).
package main

import (
	"encoding/json"
	"fmt"
	"io/ioutil"
	"os"
	"os/exec"
	"reflect"

	jsonpatch "github.com/evanphx/json-patch/v5"
)

type testCase struct {
	Name  string          `json:"name"`
	Doc   json.RawMessage `json:"doc"`
	Patch string          `json:"patch"`
}

type outcome struct {
	Name   string          `json:"name"`
	OK     bool            `json:"ok"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  string          `json:"error,omitempty"`
}

// operatorApply is what the operator does with a patch: nothing when it is
// empty, else DecodePatch and Apply to the object's bytes.
func operatorApply(doc []byte, patch string) ([]byte, error) {
	if len(patch) == 0 {
		return doc, nil
	}
	decoded, err := jsonpatch.DecodePatch([]byte(patch))
	if err != nil {
		return nil, err
	}
	return decoded.Apply(doc)
}

func equalJSON(a, b []byte) bool {
	var x, y interface{}
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: cnpgi-go-patch-oracle CORPUS.json KIT_HELPER")
		os.Exit(2)
	}
	data, err := ioutil.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var cases []testCase
	if err := json.Unmarshal(data, &cases); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", os.Args[1], err)
		os.Exit(2)
	}
	kitOutput, err := exec.Command(os.Args[2], os.Args[1]).Output()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", os.Args[2], err)
		os.Exit(2)
	}
	var kit []outcome
	if err := json.Unmarshal(kitOutput, &kit); err != nil || len(kit) != len(cases) {
		fmt.Fprintf(os.Stderr, "%s: unexpected output (%v)\n", os.Args[2], err)
		os.Exit(2)
	}

	passed, failed := 0, 0
	for i, c := range cases {
		doc, _ := json.Marshal(c.Doc) // compact, as the operator's encoding/json sends it
		goResult, goErr := operatorApply(doc, c.Patch)
		k := kit[i]
		switch {
		case (goErr == nil) != k.OK:
			failed++
			if goErr == nil {
				fmt.Printf("FAIL  %-36s the kit refuses (%s), evanphx/json-patch applies it: %s\n", c.Name, k.Error, goResult)
			} else {
				fmt.Printf("FAIL  %-36s the kit applies it (%s), evanphx/json-patch refuses: %v\n", c.Name, k.Result, goErr)
			}
		case goErr == nil && !equalJSON(goResult, k.Result):
			failed++
			fmt.Printf("FAIL  %-36s different documents: kit %s, evanphx/json-patch %s\n", c.Name, k.Result, goResult)
		default:
			passed++
			if goErr == nil {
				fmt.Printf("PASS  %-36s both apply it, same document\n", c.Name)
			} else {
				fmt.Printf("PASS  %-36s both refuse it (evanphx: %v)\n", c.Name, goErr)
			}
		}
	}

	// SetStatusInCluster: json.Unmarshal into a map accepts an object and
	// null, and refuses everything else. The kit encodes the same rule.
	for _, s := range []struct {
		status string
		ok     bool
	}{{`{"enabled":true}`, true}, {` {} `, true}, {`null`, true}, {`[1,2,3]`, false}, {`"x"`, false}, {`1`, false}, {`{`, false}} {
		var m map[string]interface{}
		err := json.Unmarshal([]byte(s.status), &m)
		if (err == nil) != s.ok {
			failed++
			fmt.Printf("FAIL  status %-29s the kit assumes the operator %s it; Go says %v\n", s.status, map[bool]string{true: "accepts", false: "refuses"}[s.ok], err)
		} else {
			passed++
			fmt.Printf("PASS  status %-29s %s by json.Unmarshal into a map, as the kit assumes\n", s.status, map[bool]string{true: "accepted", false: "refused"}[s.ok])
		}
	}
	fmt.Printf("%d passed, %d failed\n", passed, failed)
	if failed > 0 {
		os.Exit(1)
	}
}
