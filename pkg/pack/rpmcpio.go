package pack

import (
	"errors"
	"fmt"
	"io"
)

// cpioWriter writes an rpm payload: a cpio archive in the SVR4 "newc"
// format (magic 070701, no checksums), entry by entry, the bodies streamed
// through Write. The bytes are those of cavaliergopher/cpio as rpmpack
// v0.7.1 drove it: inodes numbered from 1 in write order, uid and gid 0
// (rpm takes owners from the header), mtime 0 (likewise), device numbers 0,
// upper-case hex fields, names and bodies padded to four bytes, and a TRAILER!!! entry (inode 0,
// mode 0, one link) with no padding to a block after it.
type cpioWriter struct {
	w      io.Writer
	inode  uint32
	remain int64 // body bytes of the current entry still to come
	pad    int   // padding after the current entry's body
	err    error
}

// cpioMaxSize is the largest body newc can describe (eight hex digits).
const cpioMaxSize = 1<<32 - 1

var cpioZeros [4]byte

// header starts an entry. mode holds the file type bits (0o100000,
// 0o040000, 0o120000) and the permissions.
func (c *cpioWriter) header(name string, mode uint32, size int64, links int) error {
	if c.err != nil {
		return c.err
	}
	if c.remain != 0 {
		return fmt.Errorf("cpio: %d bytes of the previous entry are missing", c.remain)
	}
	if size < 0 || size > cpioMaxSize {
		return fmt.Errorf("cpio: %s: %d bytes do not fit a newc entry", name, size)
	}
	if _, err := c.w.Write(cpioZeros[:c.pad]); err != nil {
		c.err = err
		return err
	}
	if name != cpioTrailer {
		c.inode++
	}
	inode := c.inode
	if name == cpioTrailer {
		inode = 0
	}
	h := fmt.Appendf(make([]byte, 0, 112+len(name)), "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		inode, mode, 0, 0, links, 0, size, 0, 0, 0, 0, len(name)+1, 0)
	h = append(h, name...)
	h = append(h, 0)
	for len(h)%4 != 0 {
		h = append(h, 0)
	}
	if _, err := c.w.Write(h); err != nil {
		c.err = err
		return err
	}
	c.remain, c.pad = size, int((4-size%4)%4)
	return nil
}

// Write writes body bytes of the current entry.
func (c *cpioWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if int64(len(p)) > c.remain {
		return 0, errors.New("cpio: more bytes than the entry's size")
	}
	n, err := c.w.Write(p)
	c.remain -= int64(n)
	if err != nil {
		c.err = err
	}
	return n, err
}

const cpioTrailer = "TRAILER!!!"

// close writes the trailer entry; it does not close the underlying writer.
func (c *cpioWriter) close() error {
	return c.header(cpioTrailer, 0, 0, 1)
}
