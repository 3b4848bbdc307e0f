/* gettid.c: calls gettid and pthread_cond_clockwait, both new in
 * GLIBC_2.30. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t c = PTHREAD_COND_INITIALIZER;
	struct timespec ts;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_nsec += 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&m);
	rc = pthread_cond_clockwait(&c, &m, CLOCK_MONOTONIC, &ts);
	pthread_mutex_unlock(&m);
	printf("tid %ld clockwait %d\n", (long)gettid(), rc);
	return 0;
}
