// gocomponents is pkg/components' Go fixture: it uses one package of each
// dependency so that the linker keeps them, and the build info lists them.
package main

import (
	"bytes"
	"fmt"
	"os"

	"github.com/Masterminds/semver/v3"
	"github.com/ulikunitz/xz"
	"relpack.test/greet"
)

func main() {
	v := semver.MustParse("1.2.3")
	var buf bytes.Buffer
	w, err := xz.NewWriter(&buf)
	if err == nil {
		_, err = w.Write([]byte(greet.Hello("relpack")))
	}
	if err == nil {
		err = w.Close()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("%s semver %s xz %d bytes\n", greet.Hello("relpack"), v, buf.Len())
}
