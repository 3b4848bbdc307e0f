module relpack.test/greet

go 1.26
